#!/bin/bash
# portmirror capture's receive modes as the tunnels' destination (--rx auto|ring|socket):
#  - ring (auto's choice as root): an AF_PACKET ring per local Ethernet interface takes the tunnel
#    traffic addressed to this host; the sockets stay open and take the rest (loopback, an address
#    added while running). Every packet must be written exactly once, whichever path it took:
#    same multiset of inner frames as the scapy sender's references, no duplicate, no loss;
#  - socket: the same traffic through the sockets alone gives the same file contents;
#  - --rx ring --listen: one ring, on the interface that owns the address (two collectors, one per
#    address of one interface, each get their own traffic); a loopback address has
#    no ring (exit 10, said why); --rx auto falls back to sockets there;
#  - two interfaces: a ring each, and a packet for one's address arriving on the other (weak host
#    model) comes through the sockets, once;
#  - a bridge: the ring goes on the bridge that carries the address, not on its port (no frame
#    twice), and no ICMP unreachable leaves the collector;
#  - interfaces going down, up and away while it runs: a line each, no busy loop; sniff mode stops.
. "$(dirname "$0")/lib/capture-lib.sh"
command -v mergecap >/dev/null 2>&1 || skip "missing mergecap"

two_ns
SEND="/usr/bin/python3 $E2E_LIB/send_kinds.py snd-eth0 --smac $SND_MAC --dmac $COL_MAC"
# Loopback inside the collector's namespace: lo has no ring, so these come through the sockets.
# Frames injected on lo from 127.0.0.1 are martians unless these allow them.
nx col sysctl -qw net.ipv4.conf.{all,lo}.route_localnet=1 net.ipv4.conf.{all,lo}.accept_local=1
LO_SEND="/usr/bin/python3 $E2E_LIB/send_kinds.py lo --smac 00:00:00:00:00:00 --dmac 00:00:00:00:00:00 --src 127.0.0.1 --dst 127.0.0.1 --src6 ::1 --dst6 ::1 --pad 1"

# round NAME RING SOCK [capture args...]: one collector run fed three ways -- over the veth to the
# configured addresses, over loopback, and to an address added to col-eth0 while the collector
# runs; RING frames must come from the ring and SOCK datagrams from the sockets.
round() {
  local n=$1 ring=$2 sock=$3; shift 3
  start_pm col "$W/$n.log" -w "$W/$n.pcapng" --stats-json "$W/$n.json" "$@" || return 1
  nx snd $SEND --ref "$W/$n-a.pcap" --count 5 >/dev/null
  # Frames for another MAC (the host would not take them as its own): not read, not counted.
  nx snd $SEND --dmac 02:00:00:00:99:99 --ref "$W/$n-x.pcap" --count 2 --kinds gre-kcs,vxlan >/dev/null
  nx col $LO_SEND --ref "$W/$n-b.pcap" --count 5 --kinds gre-kcs,erspan2,vxlan,geneve,gre6,vxlan6 >/dev/null
  ip -n "$(ns col)" addr add 198.18.1.3/24 dev col-eth0
  nx snd $SEND --ref "$W/$n-c.pcap" --count 5 --dst 198.18.1.3 --pad 2 --kinds gre-kcs,vxlan,tzsp >/dev/null
  sleep 0.3
  stop_pm "$PM_PID"
  ip -n "$(ns col)" addr del 198.18.1.3/24 dev col-eth0
  sed 's/^/    /' "$W/$n.log"
  mergecap -F pcap -w "$W/$n-ref.pcap" "$W/$n-a.pcap" "$W/$n-b.pcap" "$W/$n-c.pcap"
  check "$n: capture exits 0 (rc $PM_RC)" test "$PM_RC" = 0
  check_inner "$n: every inner frame exactly once (veth + loopback + later address)" "$W/$n.pcapng" "$W/$n-ref.pcap"
  local want; want=$(count_frames "$W/$n-ref.pcap")
  check "$n: inner_written = $want" test "$(json "$W/$n.json" "j['inner_written']")" = "$want"
  check "$n: kernel counters: captured = received, 0 dropped" \
    test "$(json "$W/$n.json" "(j['kernel']['captured'] == j['kernel']['received'], j['kernel']['dropped'])")" = "(True, 0)"
  check "$n: $ring read from rings, $sock from sockets" \
    test "$(json "$W/$n.json" "(j['kernel']['ring_frames'], j['kernel']['socket_datagrams'])")" = "($ring, $sock)"
  check "$n: sessions to 127.0.0.1, ::1 and 198.18.1.3 exist" \
    test "$(json "$W/$n.json" "sorted({s['receiver'] for s in j['sessions']} & {'127.0.0.1', '::1', '198.18.1.3'})")" = "['127.0.0.1', '198.18.1.3', '::1']"
}

log "1. default (--rx auto, root): ring on col-eth0, sockets for the rest"
icmp_watch col col-eth0 "$W/icmp1.pcap"
# IPv4 over the veth (10 kinds x 5) from the ring; IPv6 (2 x 5), loopback (6 x 5) and the later
# address (3 x 5) from the sockets.
round auto 50 55
sleep 0.2; stop_capture "$ICMP_PID"
check "auto: the startup line names the ring on col-eth0" grep -q "listening on ring col-eth0 (AF_PACKET" "$W/auto.log"
check "auto: no ICMP unreachable left the collector ($(icmp_count "$W/icmp1.pcap"))" test "$(icmp_count "$W/icmp1.pcap")" = 0

log "2. --rx socket: the same traffic through the sockets alone"
round socket 0 105 --rx socket
check "socket: no ring in the startup line" sh -c "! grep -q 'ring' '$W/socket.log'"
check "socket: the same inner frames as auto" same_inner "$W/socket.pcapng" "$W/auto.pcapng"

log "3. --rx ring --listen: two collectors on one interface, one per address; loopback cannot be ringed"
ip -n "$(ns col)" addr add 198.18.1.4/24 dev col-eth0
start_pm col "$W/l.log" -w "$W/l.pcapng" --rx ring --listen 198.18.1.2 || exit 1
L1=$PM_PID
start_pm col "$W/l4.log" -w "$W/l4.pcapng" --rx ring --listen 198.18.1.4 || exit 1
L4=$PM_PID
nx snd $SEND --ref "$W/l-ref.pcap" --count 4 --kinds gre-kcs,erspan3,vxlan,geneve,tzsp >/dev/null
nx snd $SEND --ref "$W/l4-ref.pcap" --count 4 --dst 198.18.1.4 --pad 4 --kinds gre-kcs,vxlan,tzsp >/dev/null
# The hand-off's SO_REUSEPORT group must not let a further collector share the port.
expect_exit 8 "4789" nx col "$PORTMIRROR" capture --listen 198.18.1.2 -c 1
sleep 0.3; stop_pm "$L1"; rc1=$PM_RC; stop_pm "$L4"; rc4=$PM_RC
ip -n "$(ns col)" addr del 198.18.1.4/24 dev col-eth0
sed 's/^/    /' "$W/l.log"
check "listen: both exit 0 (rc $rc1, $rc4)" test "$rc1$rc4" = 00
check "listen: ring col-eth0 for 1 local address" grep -q "ring col-eth0 (AF_PACKET TPACKET_V3, IPv4 tunnels to 1 local addresses" "$W/l.log"
check_inner "listen 198.18.1.2: its own inner frames, each once" "$W/l.pcapng" "$W/l-ref.pcap"
check_inner "listen 198.18.1.4: its own inner frames, each once" "$W/l4.pcapng" "$W/l4-ref.pcap"
expect_exit 10 "no Ethernet interface owns 127.0.0.1" nx col "$PORTMIRROR" capture --rx ring --listen 127.0.0.1 -c 1
expect_exit 2 "--rx banana" nx col "$PORTMIRROR" capture --rx banana -c 1
start_pm col "$W/lo.log" -w "$W/lo.pcapng" --listen 127.0.0.1 || exit 1
nx col $LO_SEND --ref "$W/lo-ref.pcap" --count 3 --kinds gre-kcs,vxlan >/dev/null
sleep 0.3; stop_pm "$PM_PID"
check "auto --listen 127.0.0.1: says it uses the sockets only" grep -q "receiving through the sockets only" "$W/lo.log"
check_inner "auto --listen 127.0.0.1: every inner frame once" "$W/lo.pcapng" "$W/lo-ref.pcap"

log "4. two interfaces: a ring each; a packet for col-eth0's address arriving on col-eth1 (weak host)"
veth snd snd-eth1 col col-eth1
ip -n "$(ns snd)" addr add 198.18.2.1/24 dev snd-eth1
ip -n "$(ns col)" addr add 198.18.2.2/24 dev col-eth1
nx col ethtool -K col-eth1 gro off >/dev/null 2>&1 || true
SND1_MAC=$(ip -n "$(ns snd)" -br link show snd-eth1 | awk '{print $3}')
COL1_MAC=$(ip -n "$(ns col)" -br link show col-eth1 | awk '{print $3}')
SEND1="/usr/bin/python3 $E2E_LIB/send_kinds.py snd-eth1 --smac $SND1_MAC --dmac $COL1_MAC --src 198.18.2.1 --kinds gre-kcs,erspan2,vxlan,geneve"
start_pm col "$W/two.log" -w "$W/two.pcapng" --stats-json "$W/two.json" || exit 1
nx snd $SEND1 --ref "$W/two-a.pcap" --count 5 --dst 198.18.2.2 >/dev/null
nx snd $SEND1 --ref "$W/two-b.pcap" --count 5 --dst 198.18.1.2 --pad 3 >/dev/null
sleep 0.3; stop_pm "$PM_PID"
sed 's/^/    /' "$W/two.log"
mergecap -F pcap -w "$W/two-ref.pcap" "$W/two-a.pcap" "$W/two-b.pcap"
check "two: rings on col-eth0 and col-eth1" grep -Eq "listening on ring col-eth[01], ring col-eth[01] " "$W/two.log"
check_inner "two: every inner frame exactly once" "$W/two.pcapng" "$W/two-ref.pcap"
check "two: 20 from col-eth1's ring, the 20 weak-host ones from the sockets" \
  test "$(json "$W/two.json" "(j['kernel']['ring_frames'], j['kernel']['socket_datagrams'])")" = "(20, 20)"
ip -n "$(ns col)" link del col-eth1

log "4b. a VLAN device on col-eth0: its ring reads the tagged traffic, col-eth0's ring skips it"
if ! ip -n "$(ns snd)" link add link snd-eth0 name snd-eth0.100 type vlan id 100 2>/dev/null; then
  echo "    skipped: this kernel cannot create VLAN devices (no 8021q)"
else
ip -n "$(ns col)" link add link col-eth0 name col-eth0.100 type vlan id 100
ip -n "$(ns snd)" link set snd-eth0.100 up
ip -n "$(ns col)" link set col-eth0.100 up
ip -n "$(ns snd)" addr add 198.18.100.1/24 dev snd-eth0.100
ip -n "$(ns col)" addr add 198.18.100.2/24 dev col-eth0.100
SENDV="/usr/bin/python3 $E2E_LIB/send_kinds.py snd-eth0.100 --smac $SND_MAC --dmac $COL_MAC --src 198.18.100.1 --dst 198.18.100.2 --kinds gre-kcs,erspan3,vxlan,tzsp"
start_pm col "$W/vlan.log" -w "$W/vlan.pcapng" --stats-json "$W/vlan.json" || exit 1
nx snd $SENDV --ref "$W/vlan-ref.pcap" --count 5 >/dev/null
sleep 0.3; stop_pm "$PM_PID"
sed 's/^/    /' "$W/vlan.log"
check "vlan: a ring on col-eth0.100 too" grep -q "ring col-eth0.100" "$W/vlan.log"
check_inner "vlan: every inner frame exactly once" "$W/vlan.pcapng" "$W/vlan-ref.pcap"
check "vlan: all 20 from a ring" \
  test "$(json "$W/vlan.json" "(j['kernel']['ring_frames'], j['kernel']['socket_datagrams'])")" = "(20, 0)"
ip -n "$(ns col)" link del col-eth0.100
fi

log "5. col-eth0 enslaved to a bridge that carries the addresses: the ring is on the bridge"
nx col ip link add cbr0 type bridge
nx col ip link set cbr0 address "$COL_MAC"
nx col ip addr flush dev col-eth0
nx col ip link set col-eth0 master cbr0
nx col ip link set cbr0 up
nx col ip addr add 198.18.1.2/24 dev cbr0
nx col ip addr add 2001:db8:1::2/64 dev cbr0 nodad
icmp_watch col cbr0 "$W/icmp4.pcap"
start_pm col "$W/br.log" -w "$W/br.pcapng" --stats-json "$W/br.json" || exit 1
nx snd $SEND --ref "$W/br-ref.pcap" --count 5 >/dev/null
sleep 0.3; stop_pm "$PM_PID"
sleep 0.2; stop_capture "$ICMP_PID"
sed 's/^/    /' "$W/br.log"
check "bridge: ring on cbr0 only" sh -c "grep -q 'listening on ring cbr0 (AF_PACKET' '$W/br.log' && ! grep -q 'ring col-eth0' '$W/br.log'"
check_inner "bridge: every inner frame exactly once" "$W/br.pcapng" "$W/br-ref.pcap"
check "bridge: no ICMP unreachable left the collector ($(icmp_count "$W/icmp4.pcap"))" test "$(icmp_count "$W/icmp4.pcap")" = 0
log "6. interfaces going down, up and away while the collector runs: no busy loop, a line each"
# cpu_ticks PID: utime + stime of the process in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
start_pm col "$W/gone.log" -w "$W/gone.pcapng" --stats-json "$W/gone.json" || exit 1
nx col ip link set cbr0 down; sleep 0.3; nx col ip link set cbr0 up
for i in $(seq 1 40); do nx col ip -br link show cbr0 | grep -q UP && break; sleep 0.05; done
sleep 0.5
nx snd $SEND --ref "$W/gone-a.pcap" --count 3 --kinds gre-kcs,vxlan >/dev/null
nx col ip link del cbr0
sleep 0.5
t0=$(cpu_ticks "$PM_PID"); sleep 1; t1=$(cpu_ticks "$PM_PID")
nx col $LO_SEND --ref "$W/gone-b.pcap" --count 3 --kinds gre-kcs,vxlan >/dev/null
sleep 0.3; stop_pm "$PM_PID"
sed 's/^/    /' "$W/gone.log"
mergecap -F pcap -w "$W/gone-ref.pcap" "$W/gone-a.pcap" "$W/gone-b.pcap"
check "gone: said the bridge went down" grep -q "interface cbr0: Network is down" "$W/gone.log"
check "gone: said the bridge is gone" grep -q "interface cbr0 is gone; its ring is closed" "$W/gone.log"
check "gone: no busy loop after it went away ($((t1 - t0)) ticks of CPU in 1 s)" test $((t1 - t0)) -le 10
check_inner "gone: traffic after down/up (ring) and after the deletion (loopback) arrived" "$W/gone.pcapng" "$W/gone-ref.pcap"
check "gone: capture exits 0 (rc $PM_RC)" test "$PM_RC" = 0
start_pm col "$W/sniffgone.log" -i col-eth0 -w "$W/sniffgone.pcapng" || exit 1
nx col ip link del col-eth0
for i in $(seq 1 40); do kill -0 "$PM_PID" 2>/dev/null || break; sleep 0.05; done
wait "$PM_PID"; rc=$?
check "sniff mode: stops by itself with exit 1 when its interface disappears (rc $rc)" test "$rc" = 1
check "sniff mode: says why" grep -q "stopped: interface col-eth0 disappeared" "$W/sniffgone.log"
finish
