#!/bin/bash
# portmirror capture against scapy-crafted mirror traffic of every encapsulation (GRE plain / key+seq+
# checksum / L3, ERSPAN I/II/III (+platform sub-header), VXLAN, Geneve, TZSP, GRE and VXLAN over
# IPv6) sent from another namespace to the collector's user-space sockets. Checks:
#  - every inner frame arrives bit for bit (our pcapng, read by tshark, vs the sender's reference);
#  - per-session counters: packets, sequence gaps made on purpose (--skip-every) as exact losses,
#    GRE keepalives counted as liveness, not packets;
#  - no ICMP unreachable leaves the collector namespace while it runs;
#  - text mode: one tcpdump-style line per inner packet with the tunnel prefix; -c; SIGUSR1.
. "$(dirname "$0")/lib/capture-lib.sh"

two_ns
SEND="/usr/bin/python3 $E2E_LIB/send_kinds.py snd-eth0 --smac $SND_MAC --dmac $COL_MAC"

log "0. without a collector the kernel answers GRE with ICMP unreachable (so the watch below can fail)"
icmp_watch col col-eth0 "$W/icmp0.pcap"
nx snd $SEND --ref "$W/ref0.pcap" --count 2 --kinds gre-plain,vxlan >/dev/null
sleep 0.3; stop_capture "$ICMP_PID"
check "ICMP unreachables seen without a collector ($(icmp_count "$W/icmp0.pcap"))" test "$(icmp_count "$W/icmp0.pcap")" -ge 1

log "1. all encapsulations, sequence gaps every 6th, 3 keepalives -> -w pcapng"
icmp_watch col col-eth0 "$W/icmp.pcap"
start_pm col "$W/pm1.log" -w "$W/out.pcapng" --stats-json "$W/s1.json" || exit 1
out=$(nx snd $SEND --ref "$W/ref.pcap" --count 20 --skip-every 6 --keepalives 3)
echo "    sender: $out"
sent=$(echo "$out" | awk '{print $2}')
sleep 0.3
stop_pm "$PM_PID"
sleep 0.2; stop_capture "$ICMP_PID"
sed 's/^/    /' "$W/pm1.log"
check "capture exits 0 on SIGINT (rc $PM_RC)" test "$PM_RC" = 0
check_inner "every inner frame bit for bit in pcapng read by tshark" "$W/out.pcapng" "$W/ref.pcap"
check "stats: inner_written = sent = $sent" test "$(json "$W/s1.json" "j['inner_written']")" = "$sent"
check "stats: sum of session packets = $sent" test "$(json "$W/s1.json" "sum(s['packets'] for s in j['sessions'])")" = "$sent"
# Sessions with sequence numbers: gre key 0x1234 (4660), erspan2 101, erspan3 102/103, gre6 key 0x66.
for sid in "gre:4660" "erspan2:101" "erspan3:102" "erspan3:103" "gre:102"; do
  e=${sid%%:*}; i=${sid##*:}
  got=$(json "$W/s1.json" "[(s['packets'],s['seq_lost'],s['seq_duplicate'],s['seq_reordered']) for s in j['sessions'] if s['encap']=='$e' and s['id']==$i]")
  check "session $e id $i: 17 packets, 3 lost, 0 dup, 0 reordered (got $got)" test "$got" = "[(17, 3, 0, 0)]"
done
got=$(json "$W/s1.json" "[(s['packets'],s['keepalives']) for s in j['sessions'] if s['encap']=='gre' and s['id'] is None]")
check "plain GRE session: 40 packets (gre-plain + gre-ip), 3 keepalives not counted as packets (got $got)" test "$got" = "[(40, 3)]"
check "stats: 3 keepalives" test "$(json "$W/s1.json" "j['keepalives']")" = 3
for e in vxlan:5000 geneve:6000 vxlan:5006; do
  got=$(json "$W/s1.json" "[s['packets'] for s in j['sessions'] if s['encap']=='${e%%:*}' and s['id']==${e##*:}]")
  check "session ${e%%:*} vni ${e##*:}: 20 packets (got $got)" test "$got" = "[20]"
done
check "IPv6 sender seen (gre6/vxlan6 sessions from 2001:db8:1::1)" \
  test "$(json "$W/s1.json" "len([s for s in j['sessions'] if s['sender']=='2001:db8:1::1'])")" = 2
check "no ICMP unreachable left the collector namespace ($(icmp_count "$W/icmp.pcap"))" test "$(icmp_count "$W/icmp.pcap")" = 0
n=$(tshark -r "$W/out.pcapng" 2>/dev/null | wc -l)
check "tshark reads the pcapng ($n packets)" test "$n" = "$sent"

log "2. text mode: one line per inner packet with the tunnel prefix; SIGUSR1 prints stats"
start_pm col "$W/pm2.log" -n || exit 1
nx snd $SEND --ref "$W/ref2.pcap" --count 2 --kinds gre-kcs,erspan2,vxlan >/dev/null
sleep 0.3
kill -USR1 "$PM_PID"; sleep 0.3
check "SIGUSR1 printed statistics without stopping" grep -q "packets captured" "$W/pm2.log"
check "still running after SIGUSR1" kill -0 "$PM_PID"
stop_pm "$PM_PID"
sed 's/^/    /' "$W/pm2.log.out"
check "6 lines on stdout" test "$(wc -l < "$W/pm2.log.out")" = 6
check "GRE line: 'gre 198.18.1.1 key 0x1234 seq 1 | HH:MM:SS.ffffff IP 198.19.0.1.40000 > 198.19.0.2.50000: UDP, length 12'" \
  grep -Eq '^gre 198\.18\.1\.1 key 0x1234 seq 1 \| [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} IP 198\.19\.0\.1\.40000 > 198\.19\.0\.2\.50000: UDP, length 12$' "$W/pm2.log.out"
check "ERSPAN II line names the session" grep -Eq '^erspan2 198\.18\.1\.1 session 101 seq 0 \| ' "$W/pm2.log.out"
check "VXLAN line names the VNI" grep -Eq '^vxlan 198\.18\.1\.1 vni 5000 seq - \| ' "$W/pm2.log.out"
check "a session start line per session on stderr" test "$(grep -c 'session start' "$W/pm2.log")" = 3

log "3. -c 5 stops by itself after 5 inner packets; --print shows lines while -w writes"
start_pm col "$W/pm3.log" -c 5 -q -w "$W/c5.pcapng" --print || exit 1
nx snd $SEND --ref "$W/ref3.pcap" --count 4 --kinds gre-plain,vxlan >/dev/null
for i in $(seq 1 40); do kill -0 "$PM_PID" 2>/dev/null || break; sleep 0.05; done
check "exited after -c 5" sh -c "! kill -0 $PM_PID 2>/dev/null"
wait "$PM_PID"
check "5 lines" test "$(wc -l < "$W/pm3.log.out")" = 5
check "and 5 packets in the file" test "$(tshark -r "$W/c5.pcapng" 2>/dev/null | wc -l)" = 5
finish
