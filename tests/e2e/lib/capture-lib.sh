# shellcheck shell=bash
# Shared harness of the capture e2e tests: namespaces, the collector under test, comparisons.
# Source it from a test script. It builds on the peers' lib.sh (../shared/peers/lib.sh): namespaces
# named <tag>-NAME with a per-run tag, PIDs recorded and killed by PID, all removed on exit (also on
# failure). Exit 77 = skipped (not root, or a tool missing), as ctest's SKIP_RETURN_CODE expects.

PM_SHARED_DIR=${PM_SHARED_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../../shared" && pwd)}
PM_SOURCE_DIR=${PM_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
PORTMIRROR=${PORTMIRROR:-$PM_SOURCE_DIR/build/dev/apps/portmirror/portmirror}
E2E_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, raw sockets)"
[ -x "$PORTMIRROR" ] || skip "portmirror binary not found at $PORTMIRROR"
[ -r "$PM_SHARED_DIR/peers/lib.sh" ] || skip "peers library not found under $PM_SHARED_DIR"
for t in ip tshark tcpdump /usr/bin/python3; do
  command -v "$t" >/dev/null 2>&1 || skip "missing $t"
done
/usr/bin/python3 -c 'import scapy' 2>/dev/null || skip "python3-scapy missing for /usr/bin/python3"
ip netns add "pmprobe$$" 2>/dev/null || skip "cannot create network namespaces"
ip netns del "pmprobe$$"

PEERS_TAG=${PEERS_TAG:-pmc$$}
# shellcheck source=/dev/null
. "$PM_SHARED_DIR/peers/lib.sh"
W=$PEERS_WORK

# two_ns: the usual topology  <tag>-snd snd-eth0 198.18.1.1/24 (+2001:db8:1::1/64)
#                     --veth--  <tag>-col col-eth0 198.18.1.2/24 (+2001:db8:1::2/64)
# Sets SND_MAC, COL_MAC.
two_ns() {
  ns_add snd; ns_add col
  veth snd snd-eth0 col col-eth0
  ip -n "$(ns snd)" addr add 198.18.1.1/24 dev snd-eth0
  ip -n "$(ns col)" addr add 198.18.1.2/24 dev col-eth0
  ip -n "$(ns snd)" addr add 2001:db8:1::1/64 dev snd-eth0 nodad
  ip -n "$(ns col)" addr add 2001:db8:1::2/64 dev col-eth0 nodad
  # GRO would coalesce on the veth; keep packets as sent.
  nx col ethtool -K col-eth0 gro off >/dev/null 2>&1 || true
  SND_MAC=$(ip -n "$(ns snd)" -br link show snd-eth0 | awk '{print $3}')
  COL_MAC=$(ip -n "$(ns col)" -br link show col-eth0 | awk '{print $3}')
}

# start_pm NS LOG [args...]: runs `portmirror capture args` in NS, stdout+stderr to LOG (stdout to
# LOG.out); waits for its "listening" line. Sets PM_PID.
start_pm() {
  local n=$1 lf=$2; shift 2
  nxbg "$n" "$PORTMIRROR" capture "$@" >"$lf.out" 2>"$lf"
  PM_PID=$BG_PID
  local i
  for i in $(seq 1 100); do
    grep -q "listening" "$lf" 2>/dev/null && return 0
    kill -0 "$PM_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "portmirror capture did not start:"; cat "$lf"
  return 1
}
# stop_pm PID: SIGINT, wait (<= 5 s), sets PM_RC.
stop_pm() {
  kill -INT "$1" 2>/dev/null
  local i
  for i in $(seq 1 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$1" 2>/dev/null && { echo "portmirror did not stop on SIGINT"; kill -KILL "$1"; }
  wait "$1"; PM_RC=$?
}

# json FILE EXPR: evaluates a python expression on the JSON object `j` of FILE.
# A failing expression prints a unique marker, so two failures never compare equal.
json() { /usr/bin/python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1" || echo "json-error-$RANDOM$RANDOM"; }

# same_inner OURS REF [--from-ip]: every frame of REF is in OURS and nothing else (multiset of
# bytes); tshark must read OURS. Prints a one-line summary.
same_inner() { /usr/bin/python3 "$E2E_LIB/compare_inner.py" "$@"; }

# check_inner DESC OURS REF: a check that runs same_inner once and shows its summary.
check_inner() {
  local out rc
  out=$(same_inner "$2" "$3" 2>&1); rc=$?
  echo "$out" | sed -n '2,$s/^/    /p'
  check "$1 ($(echo "$out" | head -1))" test "$rc" = 0
}
# expect_exit CODE PATTERN cmd...: a check that cmd exits with CODE and says PATTERN (stdout+stderr).
expect_exit() { # expect_exit CODE PATTERN cmd...
  local code=$1 pat=$2; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  check "exit $code and '$pat' from: ${*: -3} (rc $rc: $(echo "$out" | head -1 | cut -c1-110))" \
    sh -c "[ $rc = $code ] && printf '%s' \"\$1\" | grep -q -- \"\$2\"" _ "$out" "$pat"
}
# count_frames FILE.pcap: records in a pcap file (header walk: faster than starting tshark, and
# exact where tcpdump would print several lines for one packet).
count_frames() {
  /usr/bin/python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
e = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
o, n = 24, 0
while o + 16 <= len(d):
    o += 16 + struct.unpack(e + "I", d[o + 8:o + 12])[0]; n += 1
print(n)' "$1"
}

# icmp_watch NS IF FILE: capture ICMP/ICMPv6 leaving IF (the collector's replies), sets ICMP_PID.
icmp_watch() {
  start_capture "$1" "$2" "$3" -Q out 'icmp or icmp6'
  ICMP_PID=$CAP_PID
}
# icmp_count FILE: unreachables / parameter problems in FILE (ND and echo excluded).
icmp_count() {
  tcpdump -nn -r "$1" 'icmp[0] == 3 or (icmp6 and (ip6[40] == 1 or ip6[40] == 4))' 2>/dev/null | wc -l
}
