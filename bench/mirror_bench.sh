#!/bin/bash
# Highest loss-free mirroring rate over veth: `portmirror mirror` versus the kernel's
# `tc ... action mirred` into a VXLAN device (recipe: ../shared/peers/tc-vxlan-mirror.sh) and Open
# vSwitch's userspace (netdev) datapath mirroring to an ERSPAN III tunnel port (recipe:
# ../shared/peers/ovs-mirror.sh), measured in the same run, for 64-byte and mixed-size (IMIX-like
# 64/594/1518, 7:4:1) frames.
#
#   <tag>-gen  g0 ---- m0  <tag>-mir  m1 198.18.1.1/24 ---- c0 198.18.1.2/24  <tag>-col
#
# trafgen in gen sends UDP frames to a foreign MAC (so mir's IP stack drops them after capture);
# the mirror in mir copies every frame of m0 (ingress) to the collector as VXLAN (VNI 42, the
# same encapsulation the kernel mirror uses). "received" = c0 RX packets; a rate is loss-free when
# received >= sent * (1 - LOSS_TOL); default 0.0001 (0.01 %: a few ARP/ND frames the generator
# namespace sends itself are in the sender count). Fixed rates are paced by `tcpreplay --pps -K`
# (exact to ~700 kpps, peers/README.md §3; `trafgen -b` falls back to one sendto per packet and
# stalls near 270 kpps, which hid every rate above that in earlier runs); "max" is unpaced
# `trafgen -P 1` (TX ring, ~850 kpps). Each step lasts STEP seconds.
#
# usage: bench/mirror_bench.sh [PORTMIRROR_BINARY]     (root; ~4 minutes)
# env:   RATES="100000 200000 ..." STEP=3 SIZES="64 mix" LOSS_TOL=0 MIRRORS="portmirror kernel ovs"
#        (ovs needs openvswitch-switch; it is skipped with a note when ovs-vswitchd is missing;
#        MIRRORS may add portmirror-socket: the raw-socket send path, --tx socket) PM_ARGS="..."
#        INTERLEAVE=N: N alternating rounds of the unpaced maximum only (see below)
#        PACER=auto (default): fixed rates up to 300 kpps by tcpreplay --pps, above that by trafgen
#        through a tbf qdisc on g0 (tcpreplay reaches ~380 kpps at most while the mirror runs on
#        the other CPU); PACER=tcpreplay or PACER=tbf for one pacer throughout
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
PM=${1:-${PORTMIRROR:-$HERE/../build/rel/apps/portmirror/portmirror}}
RATES=${RATES:-"20000 50000 100000 200000 300000 400000 500000 600000 700000 800000 900000 1000000 max"}
STEP=${STEP:-3}
SIZES=${SIZES:-"64 mix"}
LOSS_TOL=${LOSS_TOL:-0.0001}
MIRRORS=${MIRRORS:-"portmirror kernel ovs"}  # also: portmirror-socket (--tx socket)
PM_ARGS=${PM_ARGS:-}                           # extra `portmirror mirror` arguments
TAG=pmb$$
WORK=$(mktemp -d /tmp/mirror-bench-XXXXXX)
NSS=()
PIDS=()
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 77; }
for t in trafgen tcpreplay tc ip; do command -v $t >/dev/null || { echo "missing $t"; exit 77; }; done
if [[ " $MIRRORS " == *" ovs "* ]] && ! command -v ovs-vswitchd >/dev/null; then
  echo "# ovs-vswitchd not installed (openvswitch-switch): OVS column skipped"
  MIRRORS=${MIRRORS/ovs/}
fi
[ -x "$PM" ] || { echo "no portmirror binary at $PM (build: cmake -B build/rel -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build/rel --target portmirror)"; exit 2; }

. "$HERE/../tests/e2e/lib/ovs.sh"
# bg_nx NS cmd...: the background launcher ovs_start needs (PIDs tracked for cleanup).
bg_nx() { nx "$@" & PIDS+=($!); }
cleanup() {
  local p n
  ovs_stop
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  for n in "${NSS[@]}"; do ip netns del "$n" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
ns() { echo "$TAG-$1"; }
nx() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }
counter() { # NS IF rx|tx
  ip -n "$(ns "$1")" -s -j link show "$2" | /usr/bin/python3 -c "import sys,json;print(json.load(sys.stdin)[0]['stats64']['$3']['packets'])"
}

for n in gen mir col; do ip netns add "$(ns $n)"; NSS+=("$(ns $n)"); ip -n "$(ns $n)" link set lo up; done
ip link add g0 netns "$(ns gen)" type veth peer name m0 netns "$(ns mir)"
ip link add m1 netns "$(ns mir)" type veth peer name c0 netns "$(ns col)"
ip -n "$(ns gen)" addr add 198.18.0.2/24 dev g0
ip -n "$(ns mir)" addr add 198.18.0.1/24 dev m0
ip -n "$(ns mir)" addr add 198.18.1.1/24 dev m1
ip -n "$(ns col)" addr add 198.18.1.2/24 dev c0
for x in "gen g0" "mir m0" "mir m1" "col c0"; do set -- $x; ip -n "$(ns $1)" link set "$2" up; done
nx mir ping -c1 -W1 198.18.1.2 >/dev/null
# The collector receives VXLAN on a kernel device (independent decapsulator), which also keeps it
# from answering with ICMP port unreachables.
ip -n "$(ns col)" link add vxlan1 type vxlan id 42 local 198.18.1.2 dstport 4789 dev c0
ip -n "$(ns col)" link set vxlan1 up

make_cfg() { # make_cfg 64|mix FILE
  local f=$2
  : >"$f"
  one() { # payload bytes after the UDP header: frame = 14 + 20 + 8 + n (+4 FCS not counted)
    cat >>"$f" <<EOC
{ eth(da=02:00:00:00:00:99, sa=02:00:00:00:00:02, type=0x0800),
  ipv4(saddr=198.18.0.2, daddr=198.18.0.1, ttl=64, proto=17),
  udp(sp=dinc(1024, 65000), dp=9),
  fill(0x41, $1) }
EOC
  }
  if [ "$1" = 64 ]; then one 18; else
    for i in 1 2 3 4 5 6 7; do one 18; done
    for i in 1 2 3 4; do one 548; done
    one 1472
  fi
}

# Open vSwitch (netdev datapath, no kernel module needed) in the mirror namespace: m0 on br-int,
# mirrored (select-src-port) to an ERSPAN III tunnel port; the underlay address moves from m1 to
# br-phy's internal port, m1 becomes a port of br-phy (native tunnelling).
start_ovs() {
  local i cmac
  ovs_start "$WORK/ovs" mir bg_nx || return 1
  cmac=$(ip -n "$(ns col)" -br link show c0 | awk '{print $3}')
  ovs_underlay "$(ns mir)" m1 198.18.1.1/24 198.18.1.2 "$cmac" m0
  $VS add-port br-int erspan0 -- set interface erspan0 type=erspan options:remote_ip=198.18.1.2 \
    options:key=102 options:erspan_ver=2 options:erspan_dir=0 options:erspan_hwid=0x4
  $VS -- --id=@p get port m0 -- --id=@o get port erspan0 \
    -- --id=@m create mirror name=m select-src-port=@p output-port=@o -- set bridge br-int mirrors=@m >/dev/null
  $APP revalidator/purge >/dev/null
  sleep 1
}
stop_ovs() {
  ovs_stop
  ip -n "$(ns mir)" addr add 198.18.1.1/24 dev m1 2>/dev/null
  ip -n "$(ns mir)" link set m1 up
}

start_mirror() { # start_mirror portmirror|portmirror-socket|kernel|ovs
  if [ "$1" = ovs ]; then
    start_ovs
  elif [ "${1%%-*}" = portmirror ]; then
    local tx=packet; [ "$1" = portmirror-socket ] && tx=socket
    ip netns exec "$(ns mir)" "$PM" mirror -i m0:in --to 198.18.1.2 --encap vxlan --vni 42 --police none \
      --ring-mb 64 --tx $tx --stats-json "$WORK/stats.json" $PM_ARGS 2>"$WORK/pm.err" &
    MPID=$!; PIDS+=("$MPID")
    local i; for i in $(seq 100); do grep -q 'interface(s) ->' "$WORK/pm.err" 2>/dev/null && break; sleep 0.05; done
  else
    ip -n "$(ns mir)" link add vxlan0 type vxlan id 42 remote 198.18.1.2 local 198.18.1.1 dstport 4789 dev m1 noudpcsum
    ip -n "$(ns mir)" link set vxlan0 up
    tc -n "$(ns mir)" qdisc add dev m0 clsact
    tc -n "$(ns mir)" filter add dev m0 ingress u32 match u32 0 0 action mirred egress mirror dev vxlan0
  fi
}
stop_mirror() {
  if [ "$1" = ovs ]; then
    stop_ovs
  elif [ "${1%%-*}" = portmirror ]; then
    kill -INT "$MPID"; wait "$MPID" 2>/dev/null
  else
    tc -n "$(ns mir)" qdisc del dev m0 clsact
    ip -n "$(ns mir)" link del vxlan0
  fi
}

make_pcap() { # make_pcap 64|mix FILE: the same frames as make_cfg, 4096 flows (source ports)
  /usr/bin/python3 - "$1" "$2" <<'EOP'
import struct, sys
size, out = sys.argv[1], sys.argv[2]
pattern = [18] if size == "64" else [18] * 7 + [548] * 4 + [1472]
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF); s += s >> 16
    return ~s & 0xFFFF
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i in range(4096):
        n = pattern[i % len(pattern)]
        udp = struct.pack("!HHHH", 1024 + i, 9, 8 + n, 0) + b"\x41" * n
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                         bytes([198, 18, 0, 2]), bytes([198, 18, 0, 1]))
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        frame = bytes.fromhex("020000000099020000000002") + b"\x08\x00" + ip + udp
        f.write(struct.pack("<IIII", 0, i, len(frame), len(frame)) + frame)
EOP
}

# run_step RATE SIZE -> "sent received"
run_step() {
  local rate=$1 size=$2 s0 r0 s1 r1
  s0=$(counter gen g0 tx); r0=$(counter col c0 rx)
  if [ "$rate" = max ]; then
    nx gen timeout -s INT "$STEP" trafgen --no-sock-mem --notouch-irq -P 1 -o g0 -i "$WORK/$size.cfg" >/dev/null 2>&1
  elif [ "${PACER:-auto}" = tbf ] || { [ "${PACER:-auto}" = auto ] && [ "$rate" -gt 300000 ]; }; then
    # trafgen's TX ring through a token bucket on g0: smooth enough, and it reaches the rates
    # tcpreplay cannot while the mirror competes for the CPUs. The bucket is sized in bytes for the
    # average frame of SIZE (the offered rate that counts is still the measured g0 TX counter).
    local avg=60; [ "$size" = mix ] && avg=$(( (7 * 60 + 4 * 590 + 1514) / 12 ))
    nx gen tc qdisc replace dev g0 root tbf rate $((rate * avg * 8))bit burst $((avg * 512)) limit $((avg * 8192))
    nx gen timeout -s INT "$STEP" trafgen --no-sock-mem --notouch-irq -q -P 1 -o g0 -i "$WORK/$size.cfg" >/dev/null 2>&1
    nx gen tc qdisc del dev g0 root 2>/dev/null
  else
    nx gen tcpreplay -i g0 --pps="$rate" -K --loop=0 --duration="$STEP" "$WORK/$size.pcap" >/dev/null 2>&1
  fi
  sleep 0.5
  s1=$(counter gen g0 tx); r1=$(counter col c0 rx)
  echo "$((s1 - s0)) $((r1 - r0))"
}

# INTERLEAVE=N: instead of the rate ladder, N rounds of the unpaced maximum for each mirror in turn
# (mirror A, B, C, A, B, C, ...), so a shared machine's changing load hits every mirror alike.
if [ -n "${INTERLEAVE:-}" ]; then
  echo "# mirror_bench INTERLEAVE=$INTERLEAVE: $(date -u +%FT%TZ) kernel $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# STEP=${STEP}s, unpaced trafgen -P 1; columns: round mirror size offered delivered ring_drops load"
  for size in $SIZES; do
    make_cfg "$size" "$WORK/$size.cfg"
    for r in $(seq "$INTERLEAVE"); do
      for m in $MIRRORS; do
        start_mirror "$m"
        read -r sent recv < <(run_step max "$size")
        stop_mirror "$m"
        drops=-
        [ "${m%%-*}" = portmirror ] && drops=$(/usr/bin/python3 -c "import json;print(json.load(open('$WORK/stats.json'))['interfaces'][0]['ring_drops'])")
        printf '%d %-18s %-4s offered %7d pps  delivered %7d pps  ring_drops %s  load %s\n' "$r" "$m" "$size" \
          $((sent / STEP)) $((recv / STEP)) "$drops" "$(cut -d' ' -f1 /proc/loadavg)"
      done
    done
  done
  exit 0
fi

declare -A BEST
echo "# mirror_bench: $(date -u +%FT%TZ) kernel $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# STEP=${STEP}s LOSS_TOL=$LOSS_TOL; columns: mirror size offered_pps sent received loss"
for size in $SIZES; do
  make_cfg "$size" "$WORK/$size.cfg"
  make_pcap "$size" "$WORK/$size.pcap"
  for m in $MIRRORS; do
    start_mirror "$m"
    best=0
    for rate in $RATES; do
      read -r sent recv < <(run_step "$rate" "$size")
      pps=$((sent / STEP)); rpps=$((recv / STEP))
      lost=$((sent - recv)); [ "$lost" -lt 0 ] && lost=0
      ok=$(/usr/bin/python3 -c "print(1 if $sent > 0 and $lost <= $sent * $LOSS_TOL else 0)")
      printf '%-10s %-4s %8s  sent %9d (%7d pps)  received %9d (%7d pps)  lost %d%s\n' "$m" "$size" "$rate" "$sent" "$pps" "$recv" "$rpps" "$lost" \
        "$([ "$ok" = 1 ] && echo '  loss-free')"
      if [ "$ok" = 1 ] && [ "$pps" -gt "$best" ]; then best=$pps; fi
    done
    stop_mirror "$m"
    if [ "${m%%-*}" = portmirror ]; then
      /usr/bin/python3 -c "import json;d=json.load(open('$WORK/stats.json'));i=d['interfaces'][0];o=d['instances'][0];print('           portmirror stats: seen',i['seen'],'ring_drops',i['ring_drops'],'sent',o['sent'],'send_errors',o['send_errors'])"
    fi
    BEST[$m-$size]=$best
  done
done
echo
echo "# highest loss-free rate (pps, sender-side count / STEP)"
for size in $SIZES; do
  p=${BEST[portmirror-$size]:-0}; k=${BEST[kernel-$size]:-0}; o=${BEST[ovs-$size]:-0}
  ratio=$(/usr/bin/python3 -c "print(f'{$p/$k:.2f}' if $k else 'n/a')")
  ratio_ovs=$(/usr/bin/python3 -c "print(f'{$p/$o:.2f}' if $o else 'n/a')")
  ratio_pkt=$(/usr/bin/python3 -c "print(f'{$p/300000:.2f}')")
  echo "size $size: portmirror $p  kernel tc-mirred+vxlan $k  ovs-erspan3 $o  ratio portmirror/kernel $ratio  portmirror/ovs $ratio_ovs  portmirror/pktminerg(300k, issue 5) $ratio_pkt"
  if [ -n "${BEST[portmirror-socket-$size]:-}" ]; then
    q=${BEST[portmirror-socket-$size]}
    echo "size $size: portmirror --tx socket $q  ratio socket/kernel $(/usr/bin/python3 -c "print(f'{$q/$k:.2f}' if $k else 'n/a')")"
  fi
done
