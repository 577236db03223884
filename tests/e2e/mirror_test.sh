#!/bin/bash
# End to end: `portmirror mirror` on a router namespace, copies received in a collector namespace by
# independent receivers: tshark (GRE key/sequence/checksum, ERSPAN II/III fields) and the kernel's
# VXLAN device (inner frames appear on vxlan1); error exit codes. Selection (sampling, policer, loop
# prevention, mirror-once) is in mirror_select_test.sh. Needs root (exit 77 = skipped otherwise).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/mirror_lib.sh"
require_root
build_topology

log "GRE (IP payload) with key, sequence, checksum, TTL, DSCP"
start_capture col c0 "$WORK/gre.pcap" 'ip proto 47'
start_mirror -i r0:in --to 198.18.1.2 --encap gre --key 4660 --sequence --checksum --ttl 9 --dscp 10 \
  --stats-json "$WORK/gre.json" --term 'from destination-address 198.18.2.0/24 protocol udp destination-port 18250-18260 then port-mirror'
send_udp src 198.18.2.2 20
send_udp src 198.18.2.2 5 9999   # not matched by the term
stop_mirror; stop_capture "$CAP"
tshark -r "$WORK/gre.pcap" -T fields -E separator=' ' -e gre.key -e gre.sequence_number -e gre.checksum.status \
  -e gre.proto -e ip.ttl -e ip.dsfield.dscp -e udp.dstport 2>/dev/null >"$WORK/gre.txt"
expect_eq "GRE copies (key 4660, matched port only)" "$(grep -c '^0x00001234 .* 18255$' "$WORK/gre.txt")" 20
expect_eq "GRE sequence 0..19" "$(cut -d' ' -f2 "$WORK/gre.txt" | tr '\n' ' ')" "$(seq -s ' ' 0 19) "
# tshark checksum status: 0 bad, 1 good, 2 unverified
expect_eq "GRE checksums valid" "$(cut -d' ' -f3 "$WORK/gre.txt" | sort -u | tr '\n' ' ')" "1 "
expect_eq "GRE protocol 0x0800, outer TTL 9, DSCP 10" "$(head -1 "$WORK/gre.txt" | cut -d' ' -f4-6 | sed 's/,[0-9]*//g')" "0x0800 9 10"
expect_eq "inner packets in order" "$(inner_seqs "$WORK/gre.pcap" | tr '\n' ' ')" "$(seq -s ' ' 0 19) "
expect_eq "stats: sent" "$(json_get "$WORK/gre.json" instances 0 sent)" 20

log "ERSPAN II (session 77, index 5) and ERSPAN III (session 300, hw 7, egress)"
start_capture col c0 "$WORK/e2.pcap" 'ip proto 47'
start_mirror -i r0:in --to 198.18.1.2 --encap erspan2 --session 77 --index 5 udp port 18255
send_udp src 198.18.2.2 10
stop_mirror; stop_capture "$CAP"
expect_eq "ERSPAN II fields" "$(tshark -r "$WORK/e2.pcap" -T fields -e erspan.version -e erspan.spanid -e erspan.index -e gre.sequence_number 2>/dev/null | tail -1 | tr '\t' ' ')" "1 77 5 9"
start_capture col c0 "$WORK/e3.pcap" 'ip proto 47'
start_mirror -i r1:out --to 198.18.1.2 --encap erspan3 --session 300 --hw-id 7 --granularity 100us udp port 18255
send_udp src 198.18.2.2 10
stop_mirror; stop_capture "$CAP"
expect_eq "ERSPAN III fields" "$(tshark -r "$WORK/e3.pcap" -T fields -e erspan.version -e erspan.spanid -e erspan.hw -e erspan.direction -e erspan.gra 2>/dev/null | sort -u | tr '\t' ' ' | tr '\n' ' ')" "2 300 7 1 0 "
expect_eq "ERSPAN III copies" "$(inner_seqs "$WORK/e3.pcap" | wc -l)" 10
ts=$(tshark -r "$WORK/e3.pcap" -T fields -e erspan.timestamp 2>/dev/null | head -1)
now=$(( ($(date +%s%N) / 100000) % 4294967296 ))
d=$(( now - ts )); d=${d#-}
if [ -n "$ts" ] && [ "$d" -lt 600000 ]; then pass "ERSPAN III timestamp is capture time in 100 us units"; else fail "ERSPAN III timestamp $ts vs now $now"; fi

log "VXLAN (VNI 4242) to the kernel VXLAN device in the collector"
ip -n "$(ns col)" link add vxlan1 type vxlan id 4242 local 198.18.1.2 dstport 4789 dev c0
ip -n "$(ns col)" link set vxlan1 up
start_capture col vxlan1 "$WORK/vx-inner.pcap" 'udp port 18255'
IN=$CAP
start_capture col c0 "$WORK/vx.pcap" 'udp port 4789'
start_mirror -i r0:in --to 198.18.1.2 --encap vxlan --vni 4242 udp port 18255
send_udp src 198.18.2.2 15
stop_mirror; stop_capture "$CAP"; stop_capture "$IN"
expect_eq "VXLAN VNI on the wire" "$(tshark -r "$WORK/vx.pcap" -T fields -e vxlan.vni 2>/dev/null | sort -u)" 4242
expect_eq "kernel vxlan1 decapsulates every copy" "$(inner_seqs "$WORK/vx-inner.pcap" | wc -l)" 15

log "--junos: the plan from a router configuration (gr- tunnel, filter bound input, rate 2)"
cat >"$WORK/router.conf" <<'EOC'
interfaces {
    gr-0/0/0 {
        unit 0 {
            tunnel { source 198.18.1.1; destination 198.18.1.2; ttl 7; key 99; }
            family inet { address 10.255.0.1/30; }
        }
    }
    ge-0/0/1 {
        unit 0 {
            family inet { filter { input mirror-udp; } address 198.18.0.2/24; }
        }
    }
}
forwarding-options {
    port-mirroring {
        input { rate 2; }
        family inet { output { interface gr-0/0/0.0; } }
    }
}
firewall {
    family inet {
        filter mirror-udp {
            term t1 { from { protocol udp; destination-port 18255; } then { port-mirror; accept; } }
            term rest { then accept; }
        }
    }
}
EOC
start_capture col c0 "$WORK/j.pcap" 'ip proto 47'
start_mirror --junos "$WORK/router.conf" --map ge-0/0/1=r0
send_udp src 198.18.2.2 20
send_udp src 198.18.2.2 4 9999
stop_mirror; stop_capture "$CAP"
tshark -r "$WORK/j.pcap" -T fields -E separator=' ' -e gre.key -e ip.ttl 2>/dev/null | sort -u >"$WORK/j.txt"
expect_eq "Junos plan: key 99, TTL 7 (every 2nd matching packet)" "$(cat "$WORK/j.txt")" "0x00000063 7,64"
expect_eq "Junos plan: rate 2 copies packets 2,4,...,20" "$(inner_seqs "$WORK/j.pcap" | awk '{printf "%d ", $1+1}')" "2 4 6 8 10 12 14 16 18 20 "

log "errors"
nx rtr "$PM" mirror -i nosuch0 --to 198.18.1.2 2>"$WORK/e.err"; rc=$?
expect_eq "unknown interface exit code 9" "$rc" 9
nx rtr "$PM" mirror -i r0 --to 198.18.1.2 --term 'from protocol bogus' 2>"$WORK/e.err"; rc=$?
expect_eq "bad term exit code 6" "$rc" 6
nx rtr "$PM" mirror -i r0 --to 198.18.1.2 'udp and (' 2>"$WORK/e.err"; rc=$?
expect_eq "bad tcpdump expression exit code 6" "$rc" 6

[ "$FAILS" = 0 ] && { echo "ALL CHECKS PASSED"; exit 0; }
echo "$FAILS check(s) failed"; exit 1
