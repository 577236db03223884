#!/usr/bin/python3
"""Writes inner-mix.pcap: inner packets of the kinds the capture text printer decodes (Ethernet
link type). The expected text is tcpdump's own: inner-mix.tcpdump-n.txt and -q/-v variants,
made by regen below. Run with Debian's /usr/bin/python3 (scapy)."""
from scapy.all import Ether, IP, IPv6, UDP, TCP, ICMP, ICMPv6EchoRequest, ARP, Dot1Q, Raw, wrpcap, GRE
import sys
E = Ether(src="02:00:00:00:aa:01", dst="02:00:00:00:aa:02")
pk = [
    E / IP(src="192.168.70.5", dst="10.0.45.8", id=1) / UDP(sport=49378, dport=18252) / Raw(b"x" * 18),
    E / IP(src="192.168.70.5", dst="10.0.45.8", id=2, flags="DF") / ICMP(type=8, id=60517, seq=8) / Raw(b"a" * 56),
    E / IP(src="10.0.45.8", dst="192.168.70.5") / ICMP(type=0, id=60517, seq=8) / Raw(b"a" * 56),
    E / IP(src="10.1.1.1", dst="10.1.1.2") / TCP(sport=40000, dport=8080, flags="S", seq=1000, window=64240),
    E / IP(src="10.1.1.2", dst="10.1.1.1") / TCP(sport=8080, dport=40000, flags="SA", seq=5000, ack=1001, window=65160),
    E / IP(src="10.1.1.1", dst="10.1.1.2") / TCP(sport=40000, dport=8080, flags="PA", seq=1001, ack=5001, window=502) / Raw(b"GET / HTTP/1.0\r\n\r\n"),
    E / IP(src="10.1.1.1", dst="10.1.1.2") / TCP(sport=40000, dport=8080, flags="FA", seq=1019, ack=5001, window=502),
    E / IP(src="10.1.1.1", dst="10.1.1.2") / TCP(sport=40000, dport=8080, flags="R", seq=1020, window=0),
    E / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=5353, dport=9999) / Raw(b"hello"),
    E / IPv6(src="2001:db8::1", dst="2001:db8::2") / ICMPv6EchoRequest(id=7, seq=3) / Raw(b"p" * 8),
    E / IPv6(src="2001:db8::1", dst="2001:db8::2") / TCP(sport=1234, dport=4321, flags="A", seq=1, ack=2, window=100),
    Ether(src="02:00:00:00:aa:01", dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, psrc="10.1.1.1", pdst="10.1.1.2", hwsrc="02:00:00:00:aa:01"),
    E / ARP(op=2, psrc="10.1.1.2", pdst="10.1.1.1", hwsrc="02:00:00:00:aa:02", hwdst="02:00:00:00:aa:01"),
    E / Dot1Q(vlan=100) / IP(src="10.2.2.1", dst="10.2.2.2") / UDP(sport=1000, dport=2000) / Raw(b"v" * 4),
    E / IP(src="10.3.3.1", dst="10.3.3.2", proto=89) / Raw(b"o" * 20),
    E / IP(src="10.3.3.1", dst="10.3.3.2", flags="MF", id=77, proto=17) / Raw(b"f" * 24),
    E / IP(src="10.3.3.1", dst="10.3.3.2", frag=3, id=77, proto=17) / Raw(b"g" * 16),
    E / IP(src="10.4.4.1", dst="10.4.4.2") / UDP(sport=53, dport=33333) / Raw(b"\x00" * 12),
]
for i, p in enumerate(pk):
    p.time = 1700000000 + i + 0.123456
wrpcap(sys.argv[1] if len(sys.argv) > 1 else "inner-mix.pcap", pk)
