#!/bin/bash
# portmirror capture: who may send (--allow, --pin), privilege drop (-Z), and the clear errors with
# their exit codes (base/exit_codes.h): no permission (7), port in use (8), unknown interface (9),
# bad filter (6), bad flags (2).
. "$(dirname "$0")/lib/capture-lib.sh"

two_ns
ip -n "$(ns snd)" addr add 198.18.1.3/24 dev snd-eth0
SEND="/usr/bin/python3 $E2E_LIB/send_kinds.py snd-eth0 --smac $SND_MAC --dmac $COL_MAC"

log "1. --allow 198.18.1.1/32: a second sender (198.18.1.3) gets nothing written, rejections counted"
start_pm col "$W/a.log" --allow 198.18.1.1/32 -w "$W/a.pcapng" --stats-json "$W/a.json" || exit 1
check "startup line names the allow-list" grep -q "accepting only 198.18.1.1/32" "$W/a.log"
out=$(nx snd $SEND --ref "$W/good.pcap" --count 9 --kinds gre-kcs,vxlan,erspan3 --extra-src 198.18.1.3)
echo "    sender: $out"
sleep 0.3; stop_pm "$PM_PID"
sed 's/^/    /' "$W/a.log"
check_inner "only the allowed sender's 27 packets, bit for bit" "$W/a.pcapng" "$W/good.pcap"
check "rejected.not_allowed = 27 exactly" test "$(json "$W/a.json" "j['admission']['not_allowed']")" = 27
check "pipeline counter rejected = 27" test "$(json "$W/a.json" "j['rejected']")" = 27
check "no session of 198.18.1.3 exists" \
  test "$(json "$W/a.json" "len([s for s in j['sessions'] if s['sender']=='198.18.1.3'])")" = 0
check "the rejections are attributed to 198.18.1.3" \
  test "$(json "$W/a.json" "[(r['sender'],r['packets']) for r in j['admission']['senders']]")" = "[('198.18.1.3', 27)]"
check "tshark sees no interface or packet of 198.18.1.3" \
  sh -c "! tshark -r '$W/a.pcapng' -T fields -e frame.interface_description 2>/dev/null | grep -q 198.18.1.3"

log "2. --pin 198.18.1.1=0x1234: GRE key 0x1234 accepted, ERSPAN session 101 from that sender rejected"
start_pm col "$W/c.log" --pin 198.18.1.1=0x1234 -w "$W/c.pcapng" --stats-json "$W/c.json" || exit 1
nx snd $SEND --ref "$W/pin-good.pcap" --count 4 --kinds gre-kcs,erspan2 --ref-kinds gre-kcs >/dev/null
sleep 0.3; stop_pm "$PM_PID"
check_inner "pinned key written bit for bit" "$W/c.pcapng" "$W/pin-good.pcap"
check "rejected.pin_mismatch = 4" test "$(json "$W/c.json" "j['admission']['pin_mismatch']")" = 4

log "3. -Z nobody (and without --allow: the startup line says everything is accepted): sockets opened as root, then runs as nobody and still receives"
chmod 777 "$W"
start_pm col "$W/z.log" -Z nobody -w "$W/z.pcapng" || exit 1
check "startup line: accepting every sender" grep -q "accepting every sender" "$W/z.log"
uid=$(awk '/^Uid:/{print $2}' "/proc/$PM_PID/status")
check "process runs as nobody (uid $uid)" test "$uid" = "$(id -u nobody)"
nx snd $SEND --ref "$W/z.pcap" --count 3 --kinds gre-plain,vxlan >/dev/null
sleep 0.3; stop_pm "$PM_PID"
check "output file owned by nobody" test "$(stat -c %U "$W/z.pcapng")" = nobody
check_inner "packets received after the drop, bit for bit" "$W/z.pcapng" "$W/z.pcap"

log "4. clear errors and exit codes"
# Port in use: a kernel VXLAN device holds UDP 4789 in the collector namespace.
ip -n "$(ns col)" link add vx-busy type vxlan id 9 dstport 4789 dev col-eth0
ip -n "$(ns col)" link set vx-busy up
expect_exit 8 "4789" nx col "$PORTMIRROR" capture -c 1
ip -n "$(ns col)" link del vx-busy
expect_exit 9 "nosuch0" nx col "$PORTMIRROR" capture -i nosuch0 -c 1
expect_exit 6 "filter" nx col "$PORTMIRROR" capture -c 1 tcp port banana
expect_exit 7 "CAP_NET_RAW" nx col setpriv --reuid=nobody --regid=nogroup --clear-groups "$PORTMIRROR" capture -c 1
expect_exit 7 "CAP_NET_RAW" nx col setpriv --inh-caps=-net_raw --bounding-set=-net_raw "$PORTMIRROR" capture -c 1
expect_exit 2 "--allow" nx col "$PORTMIRROR" capture --allow 300.1.1.1 -c 1
expect_exit 10 "--listen" nx col "$PORTMIRROR" capture --listen 198.18.99.99 -c 1
finish
