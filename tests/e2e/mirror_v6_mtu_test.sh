#!/bin/bash
# End to end, `portmirror mirror` -> `portmirror capture` (our own collector as the receiver):
# tunnels over an IPv6 underlay (GRE with key and sequence, VXLAN with its mandatory UDP checksum),
# GRE keepalives while nothing is mirrored (liveness at the collector, not packets), and the MTU
# policy on a 1400-byte collector link (clip: copies cut to fit, nothing fragmented; fragment: the
# kernel fragments, the collector reassembles the whole copy). Needs root (exit 77 = skipped).
HERE=$(cd "$(dirname "$0")" && pwd)
want20=$(seq 0 19 | paste -sd' ')
. "$HERE/mirror_lib.sh"
require_root
build_topology
ip -n "$(ns rtr)" addr add fd00:198:18:1::1/64 dev r2 nodad
ip -n "$(ns col)" addr add fd00:198:18:1::2/64 dev c0 nodad
nx rtr ping -6 -c1 -W2 fd00:198:18:1::2 >/dev/null || log "warning: no IPv6 echo reply from the collector"

# start_collector ARGS...: portmirror capture in col (COL = PID), waits until it listens.
start_collector() {
  : >"$WORK/capture.err"
  nxbg col "$PM" capture "$@" 2>"$WORK/capture.err"
  COL=$BG
  local i
  for i in $(seq 100); do
    grep -q listening "$WORK/capture.err" && return 0
    kill -0 "$COL" 2>/dev/null || { cat "$WORK/capture.err"; return 1; }
    sleep 0.05
  done
  cat "$WORK/capture.err"; return 1
}
stop_collector() { sleep 0.3; stop_pid "$COL"; }
session() { # session JSON KEY: KEY of the first session
  /usr/bin/python3 -c "import json,sys;s=json.load(open(sys.argv[1]))['sessions'];print(s[0][sys.argv[2]] if s else 'none')" "$1" "$2"
}
payload_indices() { inner_seqs "$1" | paste -sd' '; }  # on one line

log "GRE (key 7, sequence numbers) over IPv6 to portmirror capture"
start_capture col c0 "$WORK/g6-outer.pcap" 'ip6'
start_collector --listen fd00:198:18:1::2 --allow fd00:198:18:1::1/128 -w "$WORK/g6.pcapng" \
  --stats-json "$WORK/g6-cap.json"
start_mirror -i r0:in --to fd00:198:18:1::2 --key 7 --sequence --stats-json "$WORK/g6-mir.json" udp port 18255
send_udp src 198.18.2.2 20
stop_mirror; stop_collector; stop_capture "$CAP"
expect_eq "outer: IPv6 next header 47, GRE key 7, sequence 0..19" \
  "$(tshark -r "$WORK/g6-outer.pcap" -Y 'gre' -T fields -e ipv6.nxt -e gre.key -e gre.sequence_number 2>/dev/null |
     awk '{k[$1" "$2]++; s=s" "$3} END{for (x in k) printf "%s x%d:", x, k[x]; print s}')" \
  "47 0x00000007 x20: $want20"
expect_eq "collector wrote every inner packet, in order" "$(payload_indices "$WORK/g6.pcapng")" "$want20"
expect_eq "collector session: sender, encapsulation, packets, lost" \
  "$(session "$WORK/g6-cap.json" sender) $(session "$WORK/g6-cap.json" encap) $(session "$WORK/g6-cap.json" packets) $(session "$WORK/g6-cap.json" seq_lost)" \
  "fd00:198:18:1::1 gre 20 0"
expect_eq "mirror sent 20, no send errors" \
  "$(json_get "$WORK/g6-mir.json" instances 0 sent) $(json_get "$WORK/g6-mir.json" instances 0 send_errors)" "20 0"

log "VXLAN (VNI 99) over IPv6: UDP checksum present and valid"
start_capture col c0 "$WORK/v6-outer.pcap" 'ip6 and udp port 4789'
start_collector --listen fd00:198:18:1::2 -w "$WORK/v6.pcapng" --stats-json "$WORK/v6-cap.json"
start_mirror -i r0:in --to fd00:198:18:1::2 --encap vxlan --vni 99 udp port 18255
send_udp src 198.18.2.2 20
stop_mirror; stop_collector; stop_capture "$CAP"
expect_eq "outer UDP checksums verified good by tshark, VNI 99" \
  "$(tshark -o udp.check_checksum:TRUE -r "$WORK/v6-outer.pcap" -T fields -E occurrence=f -e udp.checksum.status -e vxlan.vni 2>/dev/null | sort | uniq -c | awk '{print $1, $2, $3}')" \
  "20 1 99"
expect_eq "collector wrote every inner packet" "$(payload_indices "$WORK/v6.pcapng")" "$want20"
expect_eq "collector session: vxlan id 99" "$(session "$WORK/v6-cap.json" encap) $(session "$WORK/v6-cap.json" id)" "vxlan 99"

log "GRE keepalives: nothing mirrored for 3 s with --keepalive 1"
start_capture col c0 "$WORK/k-outer.pcap" 'ip proto 47'
start_collector --listen 198.18.1.2 -w "$WORK/k.pcapng" --stats-json "$WORK/k-cap.json"
start_mirror -i r0:in --to 198.18.1.2 --keepalive 1 udp port 18255
sleep 3.5
send_udp src 198.18.2.2 3
stop_mirror; stop_collector; stop_capture "$CAP"
ka=$(tshark -r "$WORK/k-outer.pcap" -Y 'gre.proto == 0x0000' 2>/dev/null | wc -l)
if [ "$ka" -ge 2 ] && [ "$ka" -le 5 ]; then pass "keepalives on the wire (GRE protocol 0): $ka in ~3.5 s"; else fail "keepalives on the wire: $ka, want 2..5"; fi
expect_eq "collector counts them as liveness, not packets" \
  "$(session "$WORK/k-cap.json" keepalives) $(session "$WORK/k-cap.json" packets)" "$ka 3"
expect_eq "only the 3 data packets written" "$(payload_indices "$WORK/k.pcapng")" "0 1 2"

log "MTU policy on a 1400-byte collector link, 1450-byte UDP payloads"
ip -n "$(ns rtr)" link set r2 mtu 1400
ip -n "$(ns col)" link set c0 mtu 1400
for policy in clip fragment; do
  # fragment: the collector sniffs c0 (-i), so the fragments reach our reassembler (a raw socket
  # would get the datagram already reassembled by the kernel).
  mode=(--listen 198.18.1.2); [ "$policy" = fragment ] && mode=(-i c0)
  start_capture col c0 "$WORK/m-$policy-outer.pcap" 'ip proto 47 or (ip[6:2] & 0x3fff != 0)'
  start_collector "${mode[@]}" -w "$WORK/m-$policy.pcapng" --stats-json "$WORK/m-$policy-cap.json"
  start_mirror -i r0:in --to 198.18.1.2 --mtu-policy "$policy" --stats-json "$WORK/m-$policy-mir.json" udp port 18255
  send_udp src 198.18.2.2 5 18255 1450
  stop_mirror; stop_collector; stop_capture "$CAP"
done
# clip: copy = outer IPv4 20 + GRE 4 + inner IP packet cut to 1376 bytes; the inner record keeps
# the original length 1478 (20 + 8 + 1450).
expect_eq "clip: 5 copies cut to fit, none fragmented" \
  "$(json_get "$WORK/m-clip-mir.json" instances 0 mtu_clipped) $(tshark -r "$WORK/m-clip-outer.pcap" -Y 'ip.flags.mf==1 || ip.frag_offset>0' 2>/dev/null | wc -l) $(tshark -r "$WORK/m-clip-outer.pcap" -T fields -E occurrence=f -e ip.len 2>/dev/null | sort -u | paste -sd' ')" \
  "5 0 1400"
expect_eq "clip: collector wrote 5 inner packets of 1376 captured / 1478 original bytes" \
  "$(tshark -r "$WORK/m-clip.pcapng" -T fields -e frame.cap_len -e frame.len 2>/dev/null | sort | uniq -c | awk '{print $1, $2, $3}')" \
  "5 1390 1492"
expect_eq "fragment: 5 copies handed to the kernel whole, sent as fragments" \
  "$(json_get "$WORK/m-fragment-mir.json" instances 0 mtu_fragmented) $(tshark -r "$WORK/m-fragment-outer.pcap" -o ip.defragment:FALSE -Y 'ip.flags.mf==1' 2>/dev/null | wc -l)" \
  "5 5"
expect_eq "fragment: the collector reassembled the whole copies" \
  "$(payload_indices "$WORK/m-fragment.pcapng") | $(tshark -r "$WORK/m-fragment.pcapng" -T fields -e frame.cap_len 2>/dev/null | sort -u)" \
  "0 1 2 3 4 | 1492"
expect_eq "fragment: collector read 10 fragments and rebuilt 5 datagrams" \
  "$(/usr/bin/python3 -c "import json,sys;j=json.load(open(sys.argv[1]));print(j['frames_read'], j['errors'].get('ip.frag_reassembled', 0))" "$WORK/m-fragment-cap.json")" "10 5"

[ "$FAILS" = 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
