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
[ $fail = 0 ] && echo "cli_check: ok"
exit $fail
