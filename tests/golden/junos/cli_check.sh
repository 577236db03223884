#!/bin/sh
# The `portmirror check` binary on the seed: same report as the golden case, right exit codes.
# usage: cli_check.sh PORTMIRROR SOURCE_DIR SHARED_DIR
set -u
pm=$1 src=$2 shared=${PM_SHARED_DIR:-$3}
fail=0
out=$(mktemp) && trap 'rm -f "$out"' EXIT
expect() {  # expect CODE GOLDEN_CASE DIR ARGS...
  code=$1 case=$2 dir=$3; shift 3
  (cd "$dir" && "$pm" check "$@") > "$out"; rc=$?
  if [ "$rc" != "$code" ]; then echo "FAIL: check $* exited $rc, want $code"; fail=1; fi
  sed -e 's|@seed/||g' -e 's|@data/|tests/data/junos/|g' "$src/tests/golden/junos/$case/expected.out" \
    | diff -u - "$out" || { echo "FAIL: check $* output differs from golden $case"; fail=1; }
}
expect 2 seed-all-check "$shared/seed" router-1-gre-tunnel.conf router-2-port-mirroring.conf \
  router-3-filter.conf router-4-mx-tunnel-services.conf
expect 1 seed-all-check-lenient "$shared/seed" --lenient router-1-gre-tunnel.conf \
  router-2-port-mirroring.conf router-3-filter.conf router-4-mx-tunnel-services.conf
expect 0 clean-check "$src" tests/data/junos/clean/router.conf
(cd "$src" && "$pm" check /nonexistent.conf) > /dev/null; rc=$?
[ "$rc" = 3 ] || { echo "FAIL: unreadable file exited $rc, want 3"; fail=1; }
# `mirror --junos --dry-run`: the engine accepts the IPv4+IPv6 plan, and the configuration's
# policers survive unless --police overrides them.
v6="$src/tests/golden/junos/v6-policer-plan/router.conf"
"$pm" mirror --junos "$v6" --map xe-1/1/0=eth0 --map ge-0/0/1=eth1 --dry-run > "$out"; rc=$?
[ "$rc" = 0 ] || { echo "FAIL: mirror --junos --dry-run exited $rc"; fail=1; }
n=$(grep -c 'policer: copies limited to 10 Mbit/s' "$out")
[ "$n" = 3 ] || { echo "FAIL: dry-run shows $n Junos policers, want 3"; cat "$out"; fail=1; }
"$pm" mirror --junos "$v6" --map xe-1/1/0=eth0 --map ge-0/0/1=eth1 --dry-run --police 5kpps \
  | grep -q 'policer: copies limited to 5000 packets/s' \
  || { echo "FAIL: --police does not override the configuration's policers"; fail=1; }
[ $fail = 0 ] && echo "cli_check: ok"
exit $fail
