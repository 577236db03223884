#!/bin/bash
# End to end: `portmirror mirror` -> Open vSwitch 3.1 (userspace/netdev datapath, native tunnelling)
# as an independent RECEIVER. OVS in the collector namespace owns 198.18.1.2 on br-phy, terminates
# the tunnel on a tunnel port of br-int (GRE with Ethernet payload, ERSPAN II, ERSPAN III, VXLAN) and
# forwards the decapsulated frames to a veth where tcpdump listens. Every mirrored frame must come
# out of OVS bit for bit as tcpdump saw it on the mirrored port. Needs root and openvswitch-switch
# (exit 77 = skipped otherwise).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/mirror_lib.sh"
require_root
command -v ovs-vswitchd >/dev/null || { echo "SKIP: openvswitch-switch not installed"; exit 77; }
build_topology

. "$HERE/lib/ovs.sh"
trap 'ovs_stop; cleanup' EXIT INT TERM
ovs_start "$WORK/ovs" col nxbg || exit 1
D=$OVS_DIR

# The underlay address moves from c0 to br-phy's internal port; c0 becomes a port of br-phy.
ip -n "$(ns col)" link add o0 type veth peer name o1
ip -n "$(ns col)" link set o0 up
ip -n "$(ns col)" link set o1 up
RTR_MAC=$(ip -n "$(ns rtr)" -br link show r2 | awk '{print $3}')
ovs_underlay "$(ns col)" c0 198.18.1.2/24 198.18.1.1 "$RTR_MAC" o0
nx rtr ip neigh flush dev r2
nx rtr ping -c1 -W2 198.18.1.2 >/dev/null || log "warning: no echo reply from br-phy"

declare -A PORT=(
  [gre-eth]="type=gre options:remote_ip=198.18.1.1 options:key=77"
  [erspan2]="type=erspan options:remote_ip=198.18.1.1 options:key=101 options:erspan_ver=1"
  [erspan3]="type=erspan options:remote_ip=198.18.1.1 options:key=102 options:erspan_ver=2"
  [vxlan]="type=vxlan options:remote_ip=198.18.1.1 options:key=5000"
)
declare -A ARGS=(
  [gre-eth]="--encap gre-eth --key 77"
  [erspan2]="--encap erspan2 --session 101"
  [erspan3]="--encap erspan3 --session 102"
  [vxlan]="--encap vxlan --vni 5000"
)
frames() { # pcap -> hex of every frame, one per line
  /usr/bin/python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off = 24
while off + 16 <= len(d):
    caplen = struct.unpack_from("<I", d, off + 8)[0]
    print(d[off + 16:off + 16 + caplen].hex())
    off += 16 + caplen
PY
}

for enc in gre-eth erspan2 erspan3 vxlan; do
  log "$enc: portmirror mirror -> OVS $enc tunnel port -> o0"
  # shellcheck disable=SC2086
  $VS add-port br-int tun0 -- set interface tun0 ${PORT[$enc]}
  sleep 0.5
  start_capture col o1 "$WORK/$enc-ovs.pcap" 'udp port 18255'; C1=$CAP
  start_capture rtr r0 "$WORK/$enc-orig.pcap" 'udp port 18255'; C2=$CAP
  # shellcheck disable=SC2086
  start_mirror -i r0:in --to 198.18.1.2 ${ARGS[$enc]} --stats-json "$WORK/$enc.json" udp port 18255
  send_udp src 198.18.2.2 20
  stop_mirror; stop_capture "$C1"; stop_pid "$C2"
  $VS del-port br-int tun0
  $APP revalidator/purge >/dev/null
  expect_eq "$enc: mirror sent 20" "$(json_get "$WORK/$enc.json" instances 0 sent)" 20
  if [ -s "$WORK/$enc-orig.pcap" ] && [ "$(frames "$WORK/$enc-ovs.pcap" | sort)" = "$(frames "$WORK/$enc-orig.pcap" | sort)" ] &&
     [ "$(frames "$WORK/$enc-ovs.pcap" | wc -l)" = 20 ]; then
    pass "$enc: OVS decapsulated all 20 copies, bit for bit as seen on the mirrored port"
  else
    fail "$enc: OVS delivered $(frames "$WORK/$enc-ovs.pcap" | wc -l) frames, original $(frames "$WORK/$enc-orig.pcap" | wc -l); ovs log: $(tail -3 "$D/ovs-vswitchd.log" | tr '\n' ' ')"
  fi
done

[ "$FAILS" = 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
