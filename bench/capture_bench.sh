#!/bin/bash
# Highest loss-free rate of `portmirror capture -w FILE` (as the tunnels' destination: receive mode
# auto, decapsulating, filtering, accounting) next to `tcpdump -w FILE` (AF_PACKET, writes the outer packets as they are)
# on the same GRE stream, in the same run (issue 4, "Speed").
#
# usage: bench/capture_bench.sh [PORTMIRROR]      (default build/rel/apps/portmirror/portmirror)
#   env: RATES="100000 200000 ..." (tcpreplay --pps steps), SECS=3 per step, PAD=0 (extra inner
#        bytes; PAD=1300 for ~1400-byte frames), CAPDIR=/tmp (where both tools write),
#        TRAFGEN=1 also tries trafgen -P 2 (both CPUs) beyond tcpreplay's top speed,
#        SNIFF=1 runs portmirror in sniff mode (-i col-eth0, AF_PACKET ring like tcpdump),
#        RX=socket|ring|auto passes --rx (default: none, i.e. auto, which as root is ring: the
#        collector is the destination and reads col-eth0's ring; RX=socket for recvmmsg only),
#        PIN=1 runs generator, kernel receive path and collector on one CPU (taskset -c 0): on a
#        2-core machine the generators cannot otherwise outrun either collector (veth runs the
#        receive path on the sender's CPU), so only this shows where each collector starts to lose.
#        CPU_QUOTA=P gives each collector the same CPU budget, P % of one CPU (cgroup v1 cpu
#        controller, cfs quota), and BUF_MB=N the same kernel buffer (tcpdump -B, our --rcvbuf /
#        --ring-size; default 64): then the rate at which each starts to lose measures its cost per
#        packet, which the generators alone cannot reach on this machine.
# Topology: <tag>-gen gen-eth0 198.18.1.1 --veth-- col-eth0 198.18.1.2 <tag>-col. The stream is GRE
# with key and sequence number (ERSPAN-free so tcpdump and we see the same bytes), inner
# Ethernet/IPv4/UDP frames of 95-122 bytes on the wire (the peers' baseline size), looped.
# Offered = the collector veth's RX counter; delivered = inner packets written (ours) or
# "packets captured" (tcpdump). A step is loss-free when delivered == offered.
set -u
HERE=$(cd "$(dirname "$0")/.." && pwd)
PORTMIRROR=${1:-$HERE/build/rel/apps/portmirror/portmirror}
SHARED=${PM_SHARED_DIR:-$HERE/../shared}
RATES=${RATES-"50000 100000 200000 300000 400000 500000 600000"}
SECS=${SECS:-3}
PAD=${PAD:-0}
CAPDIR=${CAPDIR:-/tmp}
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
[ -x "$PORTMIRROR" ] || { echo "build it first: cmake -B build/rel -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build/rel --target portmirror"; exit 1; }
PEERS_TAG=pmb$$
. "$SHARED/peers/lib.sh"
W=$PEERS_WORK

ns_add gen; ns_add col
veth gen gen-eth0 col col-eth0
ip -n "$(ns gen)" addr add 198.18.1.1/24 dev gen-eth0
ip -n "$(ns col)" addr add 198.18.1.2/24 dev col-eth0
nx col ethtool -K col-eth0 gro off >/dev/null 2>&1
nx col sysctl -qw net.ipv6.conf.all.disable_ipv6=1
nx gen sysctl -qw net.ipv6.conf.all.disable_ipv6=1
GMAC=$(ip -n "$(ns gen)" -br link show gen-eth0 | awk '{print $3}')
CMAC=$(ip -n "$(ns col)" -br link show col-eth0 | awk '{print $3}')
ip -n "$(ns col)" neigh add 198.18.1.1 lladdr "$GMAC" dev col-eth0

$PY - "$W/gre.pcap" "$GMAC" "$CMAC" "$PAD" <<'EOF'
import sys
from scapy.all import Ether, IP, UDP, GRE, Raw, wrpcap
out, smac, dmac, pad = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
pk = []
for s in range(1000):
    inner = (Ether(src="02:00:00:00:aa:01", dst="02:00:00:00:aa:02") /
             IP(src="198.19.%d.1" % (s % 64), dst="198.19.0.2") / UDP(sport=40000 + s % 64, dport=50000) /
             Raw(b"x" * (13 + s % 28 + pad)))
    pk.append(Ether(src=smac, dst=dmac) / IP(src="198.18.1.1", dst="198.18.1.2") /
              GRE(key_present=1, seqnum_present=1, key=0x1234, sequence_number=s, proto=0x6558) / inner)
wrpcap(out, pk)
EOF
FSIZE=$(tshark -r "$W/gre.pcap" -T fields -e frame.len 2>/dev/null | sort -n | sed -n '1p;$p' | paste -sd-)
echo "stream: $W/gre.pcap, 1000 GRE (key+seq) frames of $FSIZE bytes, looped"

rx() { ip -n "$(ns col)" -s -j link show col-eth0 | $PY -c "import sys,json;print(json.load(sys.stdin)[0]['stats64']['rx']['packets'])"; }

BUF_MB=${BUF_MB:-64}
CG=""
if [ -n "${CPU_QUOTA:-}" ]; then
  CG=/sys/fs/cgroup/cpu/pmbench$$
  mkdir "$CG" || { echo "cannot create cgroup $CG (cgroup v1 cpu controller needed)"; exit 1; }
  echo 100000 >"$CG/cpu.cfs_period_us"
  echo $((CPU_QUOTA * 1000)) >"$CG/cpu.cfs_quota_us"
  peers_pre_cleanup() { rmdir "$CG" 2>/dev/null; }
  echo "collectors limited to ${CPU_QUOTA}% of one CPU each (cgroup $CG), kernel buffer ${BUF_MB} MB"
fi
# limit PID: moves a collector into the CPU-quota cgroup (no-op without CPU_QUOTA).
limit() { [ -z "$CG" ] || echo "$1" >"$CG/cgroup.procs"; }
PINCMD=()
[ -n "${PIN:-}" ] && PINCMD=(taskset -c 0)
# gen RATE|top|trafgen: offers traffic for SECS seconds.
gen() {
  local tg=(-P 2)
  [ -n "${PIN:-}" ] && tg=(--cpus 1)
  case $1 in
    top) nx gen "${PINCMD[@]}" tcpreplay -i gen-eth0 --topspeed -K --loop=0 --duration="$SECS" "$W/gre.pcap" >/dev/null 2>&1 ;;
    trafgen)
      [ -f "$W/gre.cfg" ] || netsniff-ng --in "$W/gre.pcap" --out "$W/gre.cfg" --silent >/dev/null 2>&1
      nx gen timeout -s INT "$SECS" "${PINCMD[@]}" trafgen --no-sock-mem --notouch-irq "${tg[@]}" -o gen-eth0 -i "$W/gre.cfg" -q >/dev/null 2>&1 ;;
    *) nx gen "${PINCMD[@]}" tcpreplay -i gen-eth0 --pps="$1" -K --loop=0 --duration="$SECS" "$W/gre.pcap" >/dev/null 2>&1 ;;
  esac
}

# run_pm RATE -> "offered delivered kernel_drops"
run_pm() {
  rm -f "$CAPDIR/pmbench.pcapng"
  local mode=()
  [ -n "${SNIFF:-}" ] && mode=(-i col-eth0)
  [ -n "${RX:-}" ] && mode+=(--rx "$RX")
  nxbg col "${PINCMD[@]}" "$PORTMIRROR" capture "${mode[@]}" --no-ipv6 --silence-timeout 0 -w "$CAPDIR/pmbench.pcapng" \
    --rcvbuf "$BUF_MB" --ring-size "$BUF_MB" --stats-json "$W/pm.json" 2>"$W/pm.log"
  local pid=$BG_PID i
  limit "$pid"
  for i in $(seq 1 100); do grep -q listening "$W/pm.log" && break; sleep 0.05; done
  local a; a=$(rx); gen "$1"; sleep 0.5; local b; b=$(rx)
  kill -INT "$pid"; wait "$pid"
  echo "$((b - a)) $($PY -c "import json;j=json.load(open('$W/pm.json'));print(j['inner_written'],j['kernel']['dropped'])")"
}
# run_td RATE -> "offered captured dropped"
run_td() {
  rm -f "$CAPDIR/tdbench.pcap"
  nxbg col "${PINCMD[@]}" tcpdump -i col-eth0 -nn -B $((BUF_MB * 1024)) -w "$CAPDIR/tdbench.pcap" 2>"$W/td.log"
  local pid=$BG_PID i
  limit "$pid"
  for i in $(seq 1 100); do grep -q listening "$W/td.log" && break; sleep 0.05; done
  local a; a=$(rx); gen "$1"; sleep 1.2; local b; b=$(rx)   # >1 s: tcpdump's last ring block
  kill -INT "$pid"; wait "$pid"
  echo "$((b - a)) $(awk '/packets captured/{c=$1} /dropped by kernel/{d=$1} END{print c, d}' "$W/td.log")"
}

STEPS=($RATES top)
[ -n "${TRAFGEN:-}" ] && STEPS+=(trafgen)
best_pm=0; best_td=0; max_pm=0; max_td=0; lossy_pm=0; lossy_td=0
printf '%-9s | %-44s | %-44s\n' step "portmirror capture -w (offered/written/kdrop)" "tcpdump -w (offered/captured/kdrop)"
for r in "${STEPS[@]}"; do
  read -r po pw pd < <(run_pm "$r")
  read -r to tc td < <(run_td "$r")
  ppps=$((po / SECS)); tpps=$((to / SECS))
  pl=$([ "$pw" -ge "$po" ] && echo loss-free || echo "LOSS $((po - pw))")
  tl=$([ "${tc:-0}" -ge "$to" ] && echo loss-free || echo "LOSS $((to - ${tc:-0}))")
  printf '%-9s | %8d pps %9d/%9d/%6d %-10s | %8d pps %9d/%9d/%6d %-10s\n' "$r" "$ppps" "$po" "$pw" "$pd" "$pl" "$tpps" "$to" "${tc:-0}" "${td:-0}" "$tl"
  [ "$pl" = loss-free ] && [ "$ppps" -gt "$best_pm" ] && best_pm=$ppps
  [ "$tl" = loss-free ] && [ "$tpps" -gt "$best_td" ] && best_td=$tpps
  [ "$pl" = loss-free ] || lossy_pm=1
  [ "$tl" = loss-free ] || lossy_td=1
  [ "$ppps" -gt "$max_pm" ] && max_pm=$ppps
  [ "$tpps" -gt "$max_td" ] && max_td=$tpps
done
echo
echo "highest loss-free rate: portmirror capture $best_pm pps, tcpdump $best_td pps"
if [ "$best_td" -gt 0 ]; then
  $PY -c "print('ratio portmirror/tcpdump: %.2f' % ($best_pm / $best_td))"
fi
# A tool that lost nothing at any step was never saturated: its loss-free rate is only a lower
# bound (the generator was the limit), and the ratio says nothing about the collectors then.
[ "$lossy_pm" = 0 ] && echo "note: portmirror capture lost nothing at any step (max offered $max_pm pps): a lower bound"
[ "$lossy_td" = 0 ] && echo "note: tcpdump lost nothing at any step (max offered $max_td pps): a lower bound"
[ "$lossy_pm" = 0 ] && [ "$lossy_td" = 0 ] && echo "note: neither collector was saturated; the ratio reflects the generator only"
rm -f "$CAPDIR/pmbench.pcapng" "$CAPDIR/tdbench.pcap"
rmdir "$CG" 2>/dev/null; true
