#!/bin/bash
# The Linux kernel as a real mirroring sender: tc clsact + u32 match-all + mirred copies every frame
# of a monitored veth (both directions) into a kernel VXLAN device whose remote is the collector
# (peers/README.md §2). `portmirror capture` holds UDP 4789 in the collector namespace. Checks: every
# frame seen on the monitored port arrives bit for bit, session counters match, no ICMP port
# unreachable leaves the collector. (VXLAN carries no sequence number; sequence-gap accounting is
# covered by capture_scapy_test.sh, and this kernel has no tc gact to drop packets on the way.)
. "$(dirname "$0")/lib/capture-lib.sh"
command -v tc >/dev/null || skip "tc missing"

for n in peer src col; do ns_add $n; done
veth peer peer-eth0 src src-eth0
veth src src-up col col-eth0
for n in peer src col; do nx $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
ip -n "$(ns peer)" addr add 198.18.0.2/24 dev peer-eth0
ip -n "$(ns src)" addr add 198.18.0.1/24 dev src-eth0
ip -n "$(ns src)" addr add 198.18.1.1/24 dev src-up
ip -n "$(ns col)" addr add 198.18.1.2/24 dev col-eth0
P_MAC=$(ip -n "$(ns peer)" -br link show peer-eth0 | awk '{print $3}')
S_MAC=$(ip -n "$(ns src)" -br link show src-eth0 | awk '{print $3}')
ip -n "$(ns peer)" neigh add 198.18.0.1 lladdr "$S_MAC" dev peer-eth0
ip -n "$(ns src)" neigh add 198.18.0.2 lladdr "$P_MAC" dev src-eth0
S=$(ns src)
ip -n "$S" link add vxlan0 type vxlan id 42 remote 198.18.1.2 local 198.18.1.1 dstport 4789 dev src-up
ip -n "$S" link set vxlan0 up
# Let the collector's ARP for the VXLAN sender be answered before traffic starts.
nx src ping -q -c 1 -W 1 198.18.1.2 >/dev/null

icmp_watch col col-eth0 "$W/icmp.pcap"
start_capture src src-eth0 "$W/ref.pcap"; REF_PID=$CAP_PID
start_pm col "$W/pm.log" -w "$W/out.pcapng" --stats-json "$W/s.json" || exit 1
tc -n "$S" qdisc add dev src-eth0 clsact
tc -n "$S" filter add dev src-eth0 ingress u32 match u32 0 0 action mirred egress mirror dev vxlan0
tc -n "$S" filter add dev src-eth0 egress u32 match u32 0 0 action mirred egress mirror dev vxlan0
nx peer ping -q -c 5 -i 0.1 198.18.0.1 >/dev/null || bad "ping peer->src"
nx peer ping -q -c 3 -i 0.1 -s 1200 198.18.0.1 >/dev/null || bad "ping peer->src (1200 bytes)"
sleep 0.4
tc -n "$S" qdisc del dev src-eth0 clsact
sleep 0.2
stop_pm "$PM_PID"; stop_capture "$REF_PID"; stop_capture "$ICMP_PID"
sed 's/^/    /' "$W/pm.log"
n=$(count_frames "$W/ref.pcap")
check_inner "all $n frames of the monitored port arrive bit for bit" "$W/out.pcapng" "$W/ref.pcap"
got=$(json "$W/s.json" "[(s['sender'],s['encap'],s['id'],s['packets']) for s in j['sessions']]")
check "one session vxlan 42 from 198.18.1.1 with $n packets (got $got)" test "$got" = "[('198.18.1.1', 'vxlan', 42, $n)]"
check "no ICMP port unreachable left the collector" test "$(icmp_count "$W/icmp.pcap")" = 0
check "0 packets dropped by kernel" grep -qx "0 packets dropped by kernel" "$W/pm.log"
finish
