#!/bin/bash
# Open vSwitch 3.1 (userspace/netdev datapath) as a real mirroring sender: port ovs-h1 mirrored to a
# GRE (key, seq, csum), ERSPAN type II, ERSPAN type III and VXLAN tunnel port whose remote is the
# collector running `portmirror capture` on its sockets. Recipe and OVS bugs: peers/README.md §1.
# For all modes: every frame seen on the mirrored port (tcpdump on h1-eth0) arrives bit for bit,
# per-session counters match, OVS's wrong GRE checksums (seq on) are counted and still delivered,
# and no ICMP unreachable leaves the collector.
. "$(dirname "$0")/lib/capture-lib.sh"
command -v ovs-vswitchd >/dev/null || skip "openvswitch-switch missing"

. "$E2E_LIB/ovs.sh"
COL_IP=198.18.1.2
peers_pre_cleanup() { ovs_stop; }

for n in ovs h1 h2 col; do ns_add $n; done
veth h1 h1-eth0 ovs ovs-h1
veth h2 h2-eth0 ovs ovs-h2
veth col col-eth0 ovs ovs-col
for n in h1 h2 col ovs; do nx $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
ip -n "$(ns h1)" addr add 198.18.0.1/24 dev h1-eth0
ip -n "$(ns h2)" addr add 198.18.0.2/24 dev h2-eth0
ip -n "$(ns col)" addr add $COL_IP/24 dev col-eth0
# Static neighbours: the only traffic on the mirrored port is the pings themselves.
H1_MAC=$(ip -n "$(ns h1)" -br link show h1-eth0 | awk '{print $3}')
H2_MAC=$(ip -n "$(ns h2)" -br link show h2-eth0 | awk '{print $3}')
ip -n "$(ns h1)" neigh add 198.18.0.2 lladdr "$H2_MAC" dev h1-eth0
ip -n "$(ns h2)" neigh add 198.18.0.1 lladdr "$H1_MAC" dev h2-eth0

ovs_start "$W/ovs" ovs nxbg || exit 1
COL_MAC=$(ip -n "$(ns col)" -br link show col-eth0 | awk '{print $3}')
ovs_underlay "$(ns ovs)" ovs-col 198.18.1.1/24 "$COL_IP" "$COL_MAC" ovs-h1 ovs-h2
BR_MAC=$(ip -n "$(ns ovs)" -br link show br-phy | awk '{print $3}')
ip -n "$(ns col)" neigh add 198.18.1.1 lladdr "$BR_MAC" dev col-eth0

declare -A TUN=(
  [gre0]="type=gre options:remote_ip=$COL_IP options:key=0x1234 options:seq=true options:csum=true"
  [erspan1]="type=erspan options:remote_ip=$COL_IP options:key=101 options:erspan_ver=1 options:erspan_idx=0x7"
  [erspan2]="type=erspan options:remote_ip=$COL_IP options:key=102 options:erspan_ver=2 options:erspan_dir=1 options:erspan_hwid=0x4"
  [vxlan0]="type=vxlan options:remote_ip=$COL_IP options:key=5000"
)
set_mirror() {
  [ -n "${CUR_TUN:-}" ] && $VS -- --if-exists clear bridge br-int mirrors -- --if-exists del-port br-int "$CUR_TUN"
  # shellcheck disable=SC2086
  $VS add-port br-int "$1" -- set interface "$1" ${TUN[$1]}
  CUR_TUN=$1
  $VS -- --id=@p get port ovs-h1 -- --id=@o get port "$1" \
      -- --id=@m create mirror name="m-$1" select-src-port=@p select-dst-port=@p output-port=@o \
      -- set bridge br-int mirrors=@m >/dev/null
  $APP revalidator/purge >/dev/null   # OVS bug 3: stale mirror output otherwise
}

# One collector run and one capture of the mirrored port for all four modes: each mode's pings are
# distinct frames (ICMP id/seq), so the multiset comparison covers every mode, and the sessions
# table must show one session per mode with exactly that mode's packets.
icmp_watch col col-eth0 "$W/icmp.pcap"
start_capture h1 h1-eth0 "$W/ref.pcap"; REF_PID=$CAP_PID
start_pm col "$W/pm.log" -w "$W/out.pcapng" --stats-json "$W/s.json" || exit 1
declare -A SENT
for port in gre0 erspan1 erspan2 vxlan0; do
  set_mirror "$port"
  sleep 0.2

  nx h1 ping -q -c 4 -i 0.05 198.18.0.2 >/dev/null || bad "ping h1->h2 through br-int ($port)"
  sleep 0.3
  $VS -- --if-exists clear bridge br-int mirrors >/dev/null; $APP revalidator/purge >/dev/null
  log "mode $port: mirrored"
done
sleep 0.3
stop_pm "$PM_PID"; stop_capture "$REF_PID"; stop_capture "$ICMP_PID"
grep -v "session start" "$W/pm.log" | sed 's/^/    /'
n=$(count_frames "$W/ref.pcap")
check_inner "all $n frames of the mirrored port (4 modes) arrive bit for bit" "$W/out.pcapng" "$W/ref.pcap"
got=$(json "$W/s.json" "[(s['encap'],s['id'],s['packets'],s['seq_lost']) for s in j['sessions']]")
want="[('gre', 4660, 8, 0), ('erspan2', 101, 8, 0), ('erspan3', 102, 8, 0), ('vxlan', 5000, 8, 0)]"
check "one session per mode, 8 packets each (4 echo requests + 4 replies), 0 lost (got $got)" test "$got" = "$want"
check "no ICMP unreachable left the collector" test "$(icmp_count "$W/icmp.pcap")" = 0
# OVS computes the checksum with the sequence field still 0, so only the packet with seq 0 has a
# valid one (peers/README.md §1 bug 1): every other packet is counted and still delivered.
bc=$(json "$W/s.json" "j['errors'].get('gre.bad_checksum', 0)")
check "OVS GRE checksum bug (csum+seq): $bc bad checksums counted, all 8 GRE packets delivered (all but seq 0 bad)" \
  test "$bc" = 7
finish
