#!/bin/bash
# End to end, selection side of `portmirror mirror` (router namespace -> collector namespace):
# exact rate/run-length sampling over the wire, maximum-packet-length with the ERSPAN T bit, the
# policer, loop prevention and mirror-once. Needs root (exit 77 = skipped otherwise).
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

[ "$FAILS" = 0 ] && { echo "ALL CHECKS PASSED"; exit 0; }
echo "$FAILS check(s) failed"; exit 1
