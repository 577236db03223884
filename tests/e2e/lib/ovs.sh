# shellcheck shell=bash
# Open vSwitch with the userspace datapath for the e2e tests and bench/mirror_bench.sh: a private
# ovsdb-server and ovs-vswitchd in one network namespace, every file under one directory (the
# recipe of ../shared/peers/README.md). Source it; the caller keeps its own namespaces and cleanup.
#
#   ovs_start DIR NS BG   BG is the caller's "start in namespace NS in the background and track the
#                         PID" command, called as `BG NS cmd...`. Sets OVS_DIR, VS (ovs-vsctl on
#                         this database) and APP (ovs-appctl to this vswitchd). Fails if either
#                         daemon did not come up.
#   ovs_stop              asks both daemons to exit (vswitchd with --cleanup); safe to call twice.
ovs_start() {
  OVS_DIR=$1
  local ns=$2 bg=$3 i
  mkdir -p "$OVS_DIR"
  export OVS_RUNDIR=$OVS_DIR OVS_LOGDIR=$OVS_DIR OVS_DBDIR=$OVS_DIR OVS_SYSCONFDIR=$OVS_DIR
  VS="ovs-vsctl --db=unix:$OVS_DIR/db.sock --timeout=10"
  APP="ovs-appctl -t $OVS_DIR/ovs-vswitchd.ctl"
  ovsdb-tool create "$OVS_DIR/conf.db" /usr/share/openvswitch/vswitch.ovsschema || return 1
  $bg "$ns" ovsdb-server "$OVS_DIR/conf.db" --remote=punix:"$OVS_DIR/db.sock" \
    --unixctl="$OVS_DIR/ovsdb-server.ctl" --log-file="$OVS_DIR/ovsdb-server.log" --no-chdir \
    2>>"$OVS_DIR/err"
  for i in $(seq 50); do [ -S "$OVS_DIR/db.sock" ] && break; sleep 0.1; done
  $VS --no-wait init || return 1
  $bg "$ns" ovs-vswitchd unix:"$OVS_DIR/db.sock" --unixctl="$OVS_DIR/ovs-vswitchd.ctl" \
    --log-file="$OVS_DIR/ovs-vswitchd.log" --no-chdir 2>>"$OVS_DIR/err"
  for i in $(seq 50); do [ -S "$OVS_DIR/ovs-vswitchd.ctl" ] && break; sleep 0.1; done
  [ -S "$OVS_DIR/ovs-vswitchd.ctl" ] || { echo "ovs-vswitchd did not start: $(tail -3 "$OVS_DIR/err")"; return 1; }
}

ovs_stop() {
  [ -n "${OVS_DIR:-}" ] || return 0
  [ -S "$OVS_DIR/ovs-vswitchd.ctl" ] && ovs-appctl -t "$OVS_DIR/ovs-vswitchd.ctl" exit --cleanup >/dev/null 2>&1
  [ -S "$OVS_DIR/ovsdb-server.ctl" ] && ovs-appctl -t "$OVS_DIR/ovsdb-server.ctl" exit >/dev/null 2>&1
  sleep 0.3
  OVS_DIR=""
}

# ovs_underlay NETNS PHY_PORT ADDR/LEN REMOTE_IP REMOTE_MAC INT_PORT...: Open vSwitch native
# tunnelling as the peers' recipe sets it up: bridge br-phy (userspace datapath) takes PHY_PORT and
# carries ADDR (moved off PHY_PORT if it was there), bridge br-int takes the INT_PORTs, and the
# tunnel route and neighbour toward REMOTE_IP point at br-phy. NETNS is the full namespace name.
ovs_underlay() {
  local netns=$1 phy=$2 addr=$3 rip=$4 rmac=$5 p
  shift 5
  local int_ports=()
  for p in "$@"; do int_ports+=(-- add-port br-int "$p"); done
  ip -n "$netns" addr del "$addr" dev "$phy" 2>/dev/null
  $VS add-br br-int -- set bridge br-int datapath_type=netdev "${int_ports[@]}"
  $VS add-br br-phy -- set bridge br-phy datapath_type=netdev -- add-port br-phy "$phy"
  ip -n "$netns" addr add "$addr" dev br-phy
  ip -n "$netns" link set br-phy up
  ip -n "$netns" link set br-int up
  $APP ovs/route/add "$rip/32" br-phy >/dev/null
  $APP tnl/arp/set br-phy "$rip" "$rmac" >/dev/null
}
