#!/bin/bash
# End to end, selection side of `portmirror mirror` (router namespace -> collector namespace):
# exact rate/run-length sampling over the wire, maximum-packet-length with the ERSPAN T bit, the
# policer, loop prevention and mirror-once; interfaces going down, up and away. Needs root (exit 77 = skipped otherwise).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/mirror_lib.sh"
require_root
build_topology

log "sampling over the wire: rate 10 run-length 2, 100 packets"
start_capture col c0 "$WORK/s.pcap" 'ip proto 47'
start_mirror -i r0:in --to 198.18.1.2 --rate 10 --run-length 2 --stats-json "$WORK/s.json" udp port 18255
send_udp src 198.18.2.2 100
stop_mirror; stop_capture "$CAP"
# packets are numbered from 1 in protocols.md §4.2; payload indices from 0
expect_eq "copied packets 10,11,12,22,23,24,..." "$(inner_seqs "$WORK/s.pcap" | awk '{printf "%d ", $1+1}')" "10 11 12 22 23 24 34 35 36 46 47 48 58 59 60 70 71 72 82 83 84 94 95 96 "
expect_eq "stats: matched 100 sampled 24" "$(json_get "$WORK/s.json" instances 0 matched) $(json_get "$WORK/s.json" instances 0 sampled)" "100 24"

log "maximum-packet-length 64 with ERSPAN II: T bit set"
start_capture col c0 "$WORK/t.pcap" 'ip proto 47'
start_mirror -i r0:in --to 198.18.1.2 --encap erspan2 --max-length 64 udp port 18255
send_udp src 198.18.2.2 5 18255 400
stop_mirror; stop_capture "$CAP"
expect_eq "truncated copies: T=1, 64-byte inner frames" "$(tshark -r "$WORK/t.pcap" -T fields -e erspan.truncated -e frame.len 2>/dev/null | sort -u | tr '\t' ' ')" "1 $((14 + 20 + 8 + 8 + 64))"

log "policer: 2000 packets at ~2 kpps against --police 200pps burst 20"
start_mirror -i r0:in --to 198.18.1.2 --police 200pps --police-burst 20 --stats-json "$WORK/p.json" udp port 18255
t0=$(date +%s%N)
send_udp src 198.18.2.2 2000
t1=$(date +%s%N)
stop_mirror
sent=$(json_get "$WORK/p.json" instances 0 sent); policed=$(json_get "$WORK/p.json" instances 0 policed)
allowed=$(( 20 + 200 * (t1 - t0) / 1000000000 ))
if [ "$sent" -le $((allowed + allowed / 10 + 5)) ] && [ "$sent" -ge $((allowed * 8 / 10)) ] && [ $((sent + policed)) = 2000 ]; then
  pass "policer held copies to burst + rate x time (sent $sent, bound $allowed, policed $policed)"
else
  fail "policer: sent $sent policed $policed, expected about $allowed"
fi

log "loop prevention: capturing on the collector-facing interface too"
start_capture col c0 "$WORK/l.pcap" 'ip proto 47'
start_mirror -i r0:in -i r2:out --to 198.18.1.2 --stats-json "$WORK/l.json"
send_udp src 198.18.2.2 10
stop_mirror; stop_capture "$CAP"
expect_eq "no copies of copies (GRE-in-GRE)" "$(tshark -r "$WORK/l.pcap" -Y 'gre && ip.proto==47 && gre.proto==0x0800 && ip.src==198.18.1.1 && ip.dst==198.18.1.2' -T fields -e ip.proto 2>/dev/null | grep -c '47,47')" 0
expect_eq "each test packet mirrored once" "$(inner_seqs "$WORK/l.pcap" | sort -n | uniq | wc -l) $(inner_seqs "$WORK/l.pcap" | wc -l)" "10 10"

log "mirror-once: packets seen in on r0 and out on r1"
start_capture col c0 "$WORK/o.pcap" 'ip proto 47'
start_mirror -i r0:in -i r1:out --to 198.18.1.2 --stats-json "$WORK/o.json" udp port 18255
send_udp src 198.18.2.2 30
stop_mirror; stop_capture "$CAP"
expect_eq "mirrored once each" "$(inner_seqs "$WORK/o.pcap" | wc -l)" 30
expect_eq "duplicates counted (r0 + r1)" "$(( $(json_get "$WORK/o.json" interfaces 0 duplicate) + $(json_get "$WORK/o.json" interfaces 1 duplicate) ))" 30
start_capture col c0 "$WORK/o2.pcap" 'ip proto 47'
start_mirror -i r0:in -i r1:out --to 198.18.1.2 --no-mirror-once udp port 18255
send_udp src 198.18.2.2 30
stop_mirror; stop_capture "$CAP"
expect_eq "--no-mirror-once mirrors both sightings" "$(inner_seqs "$WORK/o2.pcap" | wc -l)" 60

log "mirrored interfaces going down, up and away: a line each, no busy loop, copies resume"
ip -n "$(ns rtr)" link add x0 type veth peer name x1
ip -n "$(ns rtr)" link set x0 up; ip -n "$(ns rtr)" link set x1 up
start_capture col c0 "$WORK/g.pcap" 'ip proto 47'
start_mirror -i r0:in -i x0 --to 198.18.1.2 udp port 18255
nx rtr ip link set r0 down; sleep 0.3; nx rtr ip link set r0 up; sleep 0.5
send_udp src 198.18.2.2 20
nx rtr ip link del x0
sleep 0.5
ticks0=$(awk '{print $14 + $15}' "/proc/$MIR/stat"); sleep 1; ticks1=$(awk '{print $14 + $15}' "/proc/$MIR/stat")
send_udp src 198.18.2.2 20
stop_mirror; stop_capture "$CAP"
expect_eq "r0 down: said once" "$(grep -c 'interface r0: Network is down' "$WORK/mirror.err")" 1
expect_eq "x0 deleted: said so" "$(grep -c 'interface x0 is gone; no more copies from it' "$WORK/mirror.err")" 1
expect_eq "no busy loop after the deletion (CPU ticks in 1 s <= 10)" "$([ $((ticks1 - ticks0)) -le 10 ] && echo ok || echo "$((ticks1 - ticks0))")" ok
expect_eq "copies after down/up and after the deletion: 40" "$(inner_seqs "$WORK/g.pcap" | wc -l)" 40
ip -n "$(ns rtr)" link add x0 type veth peer name x1
ip -n "$(ns rtr)" link set x0 up
nxbg rtr "$PM" mirror -i x0 --to 198.18.1.2 2>"$WORK/gone.err"; M2=$BG
for i in $(seq 40); do grep -q 'interface(s) ->' "$WORK/gone.err" && break; sleep 0.05; done
ip -n "$(ns rtr)" link del x0
for i in $(seq 40); do kill -0 "$M2" 2>/dev/null || break; sleep 0.05; done
wait "$M2"; rc=$?
expect_eq "the only interface deleted: mirror stops with exit 1 and says why" "$rc $(grep -c 'stopped: no interface left' "$WORK/gone.err")" "1 1"

[ "$FAILS" = 0 ] && { echo "ALL CHECKS PASSED"; exit 0; }
echo "$FAILS check(s) failed"; exit 1
