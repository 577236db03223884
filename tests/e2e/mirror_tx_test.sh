#!/bin/bash
# End to end: the AF_PACKET send path (`--tx packet`, the default). For GRE, GRE-Ethernet, ERSPAN II,
# ERSPAN III and VXLAN over IPv4, and ERSPAN III and VXLAN over IPv6, the copies that
# `portmirror mirror` writes as whole Ethernet frames arrive at `portmirror capture` in the collector
# namespace, and the inner packets it writes are bit for bit the packets tcpdump saw arrive on the
# mirrored port; tshark validates the outer IPv4 header checksum and the IPv6 VXLAN UDP checksum;
# the frames carry the router's and the collector's MAC addresses; stats say every copy took the
# packet path. Then: the collector-facing interface captured too (our copies must not be mirrored
# again), a neighbour change followed while running, and `--tx socket`. Needs root (77 = skip).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/mirror_lib.sh"
require_root
build_topology
ip -n "$(ns rtr)" addr add 2001:db8:1::1/64 dev r2 nodad
ip -n "$(ns col)" addr add 2001:db8:1::2/64 dev c0 nodad
R2_MAC=$(ip -n "$(ns rtr)" -j link show r2 | /usr/bin/python3 -c 'import sys,json;print(json.load(sys.stdin)[0]["address"])')
C0_MAC=$(ip -n "$(ns col)" -j link show c0 | /usr/bin/python3 -c 'import sys,json;print(json.load(sys.stdin)[0]["address"])')

# same_packets ORIG.pcap INNER.pcap STRIP: prints "N identical" or the first difference. ORIG holds
# Ethernet frames from the mirrored port; INNER what portmirror capture wrote (--linktype native);
# STRIP=14 compares the IP packet only (--encap gre carries no Ethernet header).
same_packets() {
  /usr/bin/python3 - "$@" <<'PY'
import struct, sys
def read(path):
    data = open(path, "rb").read()
    end = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off, out = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        out.append(data[off + 16:off + 16 + incl]); off += 16 + incl
    return out
orig, inner, strip = read(sys.argv[1]), read(sys.argv[2]), int(sys.argv[3])
orig = [p[strip:] for p in orig]
if len(orig) != len(inner):
    print(f"count differs: mirrored port {len(orig)}, collector {len(inner)}"); sys.exit()
for i, (a, b) in enumerate(zip(orig, inner)):
    if a != b:
        print(f"packet {i} differs: {a.hex()} vs {b.hex()}"); sys.exit()
print(f"{len(orig)} identical")
PY
}

N=0
# run_case NAME DEST STRIP MIRROR-ARGS...: 25 UDP packets of mixed sizes through the router.
run_case() {
  local name=$1 dest=$2 strip=$3; shift 3
  log "$name: --tx packet to $dest"
  start_capture rtr r0 "$WORK/$name.orig.pcap" 'udp dst port 18255 and src host 198.18.0.1'
  local orig=$CAP
  start_capture col c0 "$WORK/$name.outer.pcap" 'ip proto 47 or ip6 proto 47 or udp port 4789'
  local outer=$CAP
  : >"$WORK/$name.cap.err"
  nxbg col "$PM" capture -w "$WORK/$name.inner.pcap" --format pcap --linktype native -U 2>"$WORK/$name.cap.err"
  local col=$BG
  sleep 0.5
  start_mirror -i r0:in --to "$dest" "$@" --stats-json "$WORK/$name.json" udp dst port 18255 || { fail "$name: mirror did not start"; return; }
  if grep -q "AF_PACKET on r2" "$WORK/mirror.err"; then pass "$name: AF_PACKET path on r2"; else fail "$name: no AF_PACKET path: $(cat "$WORK/mirror.err")"; fi
  send_udp src 198.18.2.2 15 18255 0
  send_udp src 198.18.2.2 10 18255 1200
  stop_mirror; sleep 0.3; stop_pid "$col"; stop_capture "$outer"; stop_capture "$orig"
  expect_eq "$name: inner packets equal the mirrored port's" "$(same_packets "$WORK/$name.orig.pcap" "$WORK/$name.inner.pcap" "$strip")" "25 identical"
  expect_eq "$name: all copies via the packet path" \
    "$(json_get "$WORK/$name.json" outputs 0 tx_packet) $(json_get "$WORK/$name.json" outputs 0 tx_socket) $(json_get "$WORK/$name.json" instances 0 send_errors)" "25 0 0"
  expect_eq "$name: Ethernet addresses r2 -> c0" \
    "$(tshark -r "$WORK/$name.outer.pcap" -T fields -E occurrence=f -e eth.src -e eth.dst 2>/dev/null | sort -u | tr '\t' ' ')" "$R2_MAC $C0_MAC"
}

run_case gre 198.18.1.2 14 --encap gre --key 7 --sequence --checksum --ttl 9 --dscp 10
expect_eq "gre: outer IPv4 checksum, GRE checksum, TTL, DSCP, DF" \
  "$(tshark -r "$WORK/gre.outer.pcap" -o ip.check_checksum:TRUE -T fields -E occurrence=f -e ip.checksum.status -e gre.checksum.status -e ip.ttl -e ip.dsfield.dscp -e ip.flags.df 2>/dev/null | sort -u | tr '\t' ' ')" "1 1 9 10 1"
expect_eq "gre: sequence 0..24" "$(tshark -r "$WORK/gre.outer.pcap" -T fields -e gre.sequence_number 2>/dev/null | tr '\n' ' ')" "$(seq -s ' ' 0 24) "
ids=$(tshark -r "$WORK/gre.outer.pcap" -T fields -E occurrence=f -e ip.id 2>/dev/null | sort -u | wc -l)
expect_eq "gre: one IPv4 identification per copy" "$ids" 25

run_case gre-eth 198.18.1.2 0 --encap gre-eth --key 8
run_case erspan2 198.18.1.2 0 --encap erspan2 --session 77 --index 5
expect_eq "erspan2: fields" "$(tshark -r "$WORK/erspan2.outer.pcap" -o ip.check_checksum:TRUE -T fields -E occurrence=f -e ip.checksum.status -e erspan.version -e erspan.spanid -e erspan.index 2>/dev/null | sort -u | tr '\t' ' ')" "1 1 77 5"
run_case erspan3 198.18.1.2 0 --encap erspan3 --session 300 --hw-id 7
expect_eq "erspan3: fields" "$(tshark -r "$WORK/erspan3.outer.pcap" -o ip.check_checksum:TRUE -T fields -E occurrence=f -e ip.checksum.status -e erspan.version -e erspan.spanid -e erspan.hw 2>/dev/null | sort -u | tr '\t' ' ')" "1 2 300 7"
run_case vxlan 198.18.1.2 0 --encap vxlan --vni 4242
expect_eq "vxlan: outer IPv4 checksum good, UDP checksum 0, VNI" "$(tshark -r "$WORK/vxlan.outer.pcap" -o ip.check_checksum:TRUE -T fields -E occurrence=f -e ip.checksum.status -e udp.checksum -e vxlan.vni 2>/dev/null | sort -u | tr '\t' ' ')" "1 0x0000 4242"
run_case erspan3-v6 2001:db8:1::2 0 --encap erspan3 --session 301
expect_eq "erspan3-v6: fields" "$(tshark -r "$WORK/erspan3-v6.outer.pcap" -T fields -E occurrence=f -e ipv6.dst -e erspan.spanid 2>/dev/null | sort -u | tr '\t' ' ')" "2001:db8:1::2 301"
run_case vxlan-v6 2001:db8:1::2 0 --encap vxlan --vni 4243
expect_eq "vxlan-v6: outer UDP checksum verified good" "$(tshark -r "$WORK/vxlan-v6.outer.pcap" -o udp.check_checksum:TRUE -T fields -E occurrence=f -e udp.checksum.status -e vxlan.vni 2>/dev/null | sort -u | tr '\t' ' ')" "1 4243"

# Through the qdisc (default) and with --tx socket the copies pass the taps on r2 (our own capture
# ring included) and must be excluded; with --qdisc-bypass they skip dev_queue_xmit_nit, so no tap
# sees them (measured on Linux 6.18; the count is printed).
for tx in packet "packet --qdisc-bypass" socket; do
  log "loop prevention (--tx $tx): the collector-facing interface r2 is captured too"
  start_capture col c0 "$WORK/loop.pcap" 'ip proto 47'
  LOOPCAP=$CAP
  start_capture rtr r2 "$WORK/loop-r2.pcap" 'ip proto 47'
  R2CAP=$CAP
  start_mirror -i r0:in -i r2 --to 198.18.1.2 --encap gre --tx $tx --stats-json "$WORK/loop.json" 'udp or ip proto 47'
  send_udp src 198.18.2.2 20
  stop_mirror; stop_capture "$LOOPCAP"; stop_capture "$R2CAP"
  expect_eq "loop ($tx): each packet mirrored once, no copy of a copy" "$(tshark -r "$WORK/loop.pcap" 2>/dev/null | wc -l)" 20
  seen=$(tshark -r "$WORK/loop-r2.pcap" 2>/dev/null | wc -l)
  echo "  (a tap on r2 saw $seen of our copies; the engine excluded $(json_get "$WORK/loop.json" interfaces 1 loop_excluded) that got past the kernel filter)"
  case $tx in *bypass*) ;; *) expect_eq "loop ($tx): tcpdump on the egress interface sees the copies" "$seen" 20 ;; esac
done

log "a changed neighbour entry is followed while running"
start_capture col c0 "$WORK/neigh.pcap" 'ip proto 47'
start_mirror -i r0:in --to 198.18.1.2 --encap gre --stats-json "$WORK/neigh.json" udp dst port 18255
send_udp src 198.18.2.2 5
# The collector's MAC changes (e.g. a replaced NIC); the router learns it (as from a gratuitous ARP).
ip -n "$(ns col)" link set c0 address 02:00:00:00:0c:02
ip -n "$(ns rtr)" neigh replace 198.18.1.2 lladdr 02:00:00:00:0c:02 dev r2 nud reachable
sleep 1.5
send_udp src 198.18.2.2 5
stop_mirror; stop_capture "$CAP"
expect_eq "neighbour: all 10 copies arrived" "$(tshark -r "$WORK/neigh.pcap" 2>/dev/null | wc -l)" 10
expect_eq "neighbour: the last copies went to the new MAC" "$(tshark -r "$WORK/neigh.pcap" -T fields -e eth.dst 2>/dev/null | tail -1)" 02:00:00:00:0c:02
expect_eq "neighbour: packet path throughout" "$(json_get "$WORK/neigh.json" outputs 0 tx_packet)" 10

log "--tx socket still works"
start_capture col c0 "$WORK/sock.pcap" 'ip proto 47'
start_mirror -i r0:in --to 198.18.1.2 --encap gre --tx socket --stats-json "$WORK/sock.json" udp dst port 18255
send_udp src 198.18.2.2 10
stop_mirror; stop_capture "$CAP"
expect_eq "socket: copies" "$(tshark -r "$WORK/sock.pcap" 2>/dev/null | wc -l)" 10
expect_eq "socket: stats" "$(json_get "$WORK/sock.json" outputs 0 tx_packet) $(json_get "$WORK/sock.json" outputs 0 tx_socket)" "0 10"

if [ "$FAILS" -ne 0 ]; then echo "$FAILS check(s) failed"; exit 1; fi
echo "ALL CHECKS PASSED"
