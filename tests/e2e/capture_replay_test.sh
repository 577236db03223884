#!/bin/bash
# Sniff mode (-i IFACE, AF_PACKET TPACKET_V3 ring): tcpreplay plays the shared corpus and the peers'
# captures (Open vSwitch GRE/ERSPAN II/III/VXLAN, kernel tc+VXLAN, scapy kinds, OVS's malformed
# snaplen output) onto the collector's veth. The collector is not the tunnels' destination (as on a
# SPAN port). Checks: the inner packets equal what `portmirror decap` extracts from the same files
# (bit for bit, read by tshark); tcpdump's three kernel lines with the right numbers; the OVS snaplen
# frames counted as outer length mismatches.
. "$(dirname "$0")/lib/capture-lib.sh"
command -v tcpreplay >/dev/null || skip "tcpreplay missing"

ns_add gen; ns_add col
veth gen gen-eth0 col col-eth0
# Large MTU so that the corpus's big (GSO/BIG TCP) frames can be replayed as they are.
ip -n "$(ns gen)" link set gen-eth0 mtu 65535
ip -n "$(ns col)" link set col-eth0 mtu 65535
nx col ethtool -K col-eth0 gro off rxvlan off >/dev/null 2>&1 || true
nx col sysctl -qw net.ipv6.conf.col-eth0.disable_ipv6=1 2>/dev/null
nx gen sysctl -qw net.ipv6.conf.gen-eth0.disable_ipv6=1 2>/dev/null

# Ethernet captures only (tcpreplay sends the link header as it is; one capinfos run for all), and
# not the BIG TCP jumbogram of tcpdump_bigtcp-ipv6-vxlan-ipv6.pcap (an 80 kB frame fits no link).
FILES=()
while IFS=$'\t' read -r f enc; do
  [ "$enc" = ether ] || continue
  case $f in *bigtcp*) echo "    not replayable (frame above 65535 bytes): $(basename "$f")"; continue ;; esac
  FILES+=("$f")
done < <(capinfos -T -E "$PM_SHARED_DIR"/peers/pcaps/*.pcap "$PM_SHARED_DIR"/corpus/*.pcap \
           "$PM_SHARED_DIR"/corpus/*.pcapng 2>/dev/null | tail -n +2)
log "replaying ${#FILES[@]} Ethernet captures"
PORTS=(--vxlan-port 4789 --vxlan-port 8472 --tzsp-port 37008 --tzsp-port 31337)

# One file, one tcpreplay run (tcpreplay's start-up dominates otherwise).
mergecap -a -F pcap -w "$W/all.pcap" "${FILES[@]}"
"$PORTMIRROR" decap -r "$W/all.pcap" "${PORTS[@]}" -w "$W/ref.pcapng" --stats-json "$W/ref.json" >/dev/null 2>"$W/decap.log"
check "portmirror decap made the reference ($(json "$W/ref.json" "j['inner_written']") inner packets)" test -s "$W/ref.pcapng"

start_pm col "$W/pm.log" -i col-eth0 "${PORTS[@]}" -w "$W/out.pcapng" --stats-json "$W/s.json" || exit 1
frames=$(nx gen tcpreplay -i gen-eth0 --pps 20000 "$W/all.pcap" 2>&1 | awk '/Successful packets:/{print $3}')
check "tcpreplay sent every frame ($frames of $(count_frames "$W/all.pcap"))" test "${frames:-0}" = "$(count_frames "$W/all.pcap")"
sleep 0.5
stop_pm "$PM_PID"
sed 's/^/    /' "$W/pm.log" | head -40
check "capture exits 0 (rc $PM_RC)" test "$PM_RC" = 0
check_inner "inner packets = decap's, bit for bit" "$W/out.pcapng" "$W/ref.pcapng"
check "same sessions and per-session packet counts as decap" test \
  "$(json "$W/s.json" "sorted((s['sender'],s['encap'],str(s['id']),s['packets'],s['seq_lost']) for s in j['sessions'])")" = \
  "$(json "$W/ref.json" "sorted((s['sender'],s['encap'],str(s['id']),s['packets'],s['seq_lost']) for s in j['sessions'])")"
check "tcpdump-style line: 0 packets dropped by kernel" grep -qx "0 packets dropped by kernel" "$W/pm.log"
recv=$(awk '/packets received by filter/{print $1}' "$W/pm.log")
capd=$(awk '/packets captured/{print $1}' "$W/pm.log")
check "received by filter ($recv) = captured ($capd) = kernel json" test "$recv" = "$capd" -a "$recv" = "$(json "$W/s.json" "j['kernel']['received']")"
check "tcpreplay sent $frames frames; the ring saw at most that many and at least the tunnelled ones" \
  test "$recv" -le "$frames" -a "$recv" -ge "$(json "$W/ref.json" "j['tunnelled']")"
check "OVS snaplen frames counted as outer length mismatch (6)" test "$(json "$W/s.json" "j['outer_length_mismatch']")" -ge 6
finish
