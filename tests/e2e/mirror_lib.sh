# shellcheck shell=bash
# Helpers for the mirror end-to-end tests (sourced, not run). Topology, per-run tag pm<PID>:
#
#   <tag>-src  s0 198.18.0.1/24 ---- r0 198.18.0.2/24  <tag>-rtr  r1 198.18.2.1/24 ---- d0 198.18.2.2/24  <tag>-dst
#                                                        r2 198.18.1.1/24
#                                                         |
#                                                        c0 198.18.1.2/24  <tag>-col  (collector)
#
# `portmirror mirror` runs in rtr; traffic goes src -> dst through rtr; copies go to col.
# Everything created here is removed by the EXIT trap; processes are killed by recorded PID.
set -u
PM=${PORTMIRROR:?set PORTMIRROR to the portmirror binary}
TAG=pm$$
WORK=${PM_TEST_TMP:-/tmp}/mirror.$TAG
mkdir -p "$WORK"
NSS=()
PIDS=()
FAILS=0

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
pass() { printf '  PASS: %s\n' "$*"; }
fail() { printf '  FAIL: %s\n' "$*"; FAILS=$((FAILS + 1)); }
expect_eq() { # expect_eq DESC GOT WANT
  if [ "$2" = "$3" ]; then pass "$1 ($2)"; else fail "$1: got '$2', want '$3'"; fi
}

cleanup() {
  local p n
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  for n in "${NSS[@]}"; do ip netns del "$n" 2>/dev/null; done
  [ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

require_root() {
  if [ "$(id -u)" != 0 ] || ! ip netns add "$TAG-probe" 2>/dev/null; then
    echo "SKIP: needs root and network namespaces"
    exit 77
  fi
  ip netns del "$TAG-probe"
  local t
  for t in tcpdump tshark; do
    command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
  done
}

ns() { echo "$TAG-$1"; }
nx() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }
nxbg() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@" & BG=$!; PIDS+=("$BG"); }

build_topology() {
  local n
  for n in src rtr dst col; do ip netns add "$(ns $n)"; NSS+=("$(ns $n)"); ip -n "$(ns $n)" link set lo up; done
  ip link add s0 netns "$(ns src)" type veth peer name r0 netns "$(ns rtr)"
  ip link add d0 netns "$(ns dst)" type veth peer name r1 netns "$(ns rtr)"
  ip link add c0 netns "$(ns col)" type veth peer name r2 netns "$(ns rtr)"
  ip -n "$(ns src)" addr add 198.18.0.1/24 dev s0; ip -n "$(ns src)" link set s0 up
  ip -n "$(ns dst)" addr add 198.18.2.2/24 dev d0; ip -n "$(ns dst)" link set d0 up
  ip -n "$(ns col)" addr add 198.18.1.2/24 dev c0; ip -n "$(ns col)" link set c0 up
  ip -n "$(ns rtr)" addr add 198.18.0.2/24 dev r0
  ip -n "$(ns rtr)" addr add 198.18.2.1/24 dev r1
  ip -n "$(ns rtr)" addr add 198.18.1.1/24 dev r2
  for n in r0 r1 r2; do ip -n "$(ns rtr)" link set $n up; done
  ip -n "$(ns src)" route add default via 198.18.0.2
  ip -n "$(ns dst)" route add default via 198.18.2.1
  nx rtr sysctl -qw net.ipv4.ip_forward=1
  # Warm up ARP everywhere so no test packet waits in a neighbour queue.
  nx src ping -c1 -W1 198.18.2.2 >/dev/null
  nx rtr ping -c1 -W1 198.18.1.2 >/dev/null
}

# send_udp NS DST COUNT [DPORT] [SIZE]: COUNT UDP datagrams with payload "pm:%06d" (padded to SIZE).
send_udp() {
  local n=$1 dst=$2 count=$3 dport=${4:-18255} size=${5:-0}
  nx "$n" /usr/bin/python3 - "$dst" "$count" "$dport" "$size" <<'PY'
import socket, sys, time
dst, count, dport, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(count):
    p = b"pm:%06d" % i
    s.sendto(p + b"." * max(0, size - len(p)), (dst, dport))
    time.sleep(0.0005)
PY
}

# start_capture NS IF FILE FILTER: tcpdump in the background (CAP set to its PID).
start_capture() {
  nxbg "$1" tcpdump --immediate-mode -i "$2" -nn -s 0 -U -w "$3" "$4" 2>"$3.err"
  CAP=$BG
  local i
  for i in $(seq 50); do grep -q listening "$3.err" 2>/dev/null && return 0; sleep 0.05; done
}
stop_pid() { kill -INT "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
# Give the capture time to drain its ring before SIGINT (libpcap drops what it has not read).
stop_capture() { sleep 0.3; stop_pid "$1"; }

# start_mirror ARGS...: portmirror mirror in rtr (MIR = PID); waits until its rings are open.
start_mirror() {
  : >"$WORK/mirror.err"
  nxbg rtr "$PM" mirror "$@" 2>"$WORK/mirror.err"
  MIR=$BG
  local i
  for i in $(seq 100); do
    grep -q 'interface(s) ->' "$WORK/mirror.err" && return 0
    kill -0 "$MIR" 2>/dev/null || { cat "$WORK/mirror.err"; return 1; }
    sleep 0.05
  done
  cat "$WORK/mirror.err"; return 1
}
stop_mirror() { sleep 0.3; stop_pid "$MIR"; }
# json_get FILE SECTION INDEX KEY
json_get() {
  /usr/bin/python3 -c "import json,sys;print(json.load(open(sys.argv[1]))[sys.argv[2]][int(sys.argv[3])][sys.argv[4]])" "$@"
}
inner_seqs() { # pcap(ng) -> the "pm:NNNNNN" indices of the mirrored UDP payloads, one per line
  tshark -r "$1" -Y 'udp.dstport==18255' -T fields -e data.data 2>/dev/null |
    /usr/bin/python3 -c 'import sys
for l in sys.stdin:
    l = l.strip().split(",")[-1]
    if l: print(int(bytes.fromhex(l)[3:9]))'
}
