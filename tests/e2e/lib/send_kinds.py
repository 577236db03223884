#!/usr/bin/python3
"""Independent sender for the capture e2e tests: scapy (Debian's /usr/bin/python3) crafts every
mirroring encapsulation around a recognisable inner frame, sends it out of an interface, and writes
the inner frames it sent to a reference pcap (what the collector must write, bit for bit).

  send_kinds.py IFACE --ref REF.pcap [--kinds K,K] [--count N] [--skip-every N]
                [--src IP --dst IP --src6 IP --dst6 IP --smac M --dmac M] [--keepalives N]

Kinds: gre-plain gre-kcs gre-ip erspan1 erspan2 erspan3 erspan3-pf vxlan geneve tzsp gre6 vxlan6
--ref-kinds K,K: only these kinds go to the reference; --extra-src IP: every frame is also sent from
IP (a second sender), not in the reference; "sent" counts reference frames.
--skip-every N: sequence numbers run on, but every Nth packet of each kind that carries a sequence
number is not sent (a gap the collector must count). Prints one line: "sent N lost L keepalive K"
(L = gaps a receiver can see: skipped numbers followed by a later one).
Every kind except gre-ip/gre6 carries an Ethernet inner frame; gre-ip and gre6 carry bare IPv4
(the reference then holds the IP packet).
"""
import argparse
import sys
import time

from scapy.all import Ether, IP, IPv6, UDP, GRE, Raw, raw, conf
from scapy.utils import RawPcapWriter
from scapy.contrib.erspan import ERSPAN_II, ERSPAN_III, ERSPAN_PlatformSpecific
from scapy.layers.vxlan import VXLAN
from scapy.contrib.geneve import GENEVE

SEQ_KINDS = {"gre-kcs", "erspan2", "erspan3", "erspan3-pf", "gre6"}
ALL = ["gre-plain", "gre-kcs", "gre-ip", "erspan1", "erspan2", "erspan3", "erspan3-pf", "vxlan",
       "geneve", "tzsp", "gre6", "vxlan6"]


def inner(kind, seq, pad):
    return (Ether(src="02:00:00:00:aa:01", dst="02:00:00:00:aa:02") /
            IP(src="198.19.0.1", dst="198.19.0.2", id=seq & 0xffff) /
            UDP(sport=40000, dport=50000) /
            Raw(("pm:%s:%d" % (kind, seq)).encode() + b"." * pad))


def build(kind, a, seq):
    o4 = Ether(src=a.smac, dst=a.dmac) / IP(src=a.src, dst=a.dst, flags="DF", ttl=64)
    o6 = Ether(src=a.smac, dst=a.dmac) / IPv6(src=a.src6, dst=a.dst6, hlim=64)
    i = inner(kind, seq, a.pad)
    ts = int(time.time() * 1e6) & 0xffffffff
    if kind == "gre-plain":
        return o4 / GRE(proto=0x6558) / i, i
    if kind == "gre-kcs":
        return o4 / GRE(chksum_present=1, key_present=1, seqnum_present=1, key=0x1234,
                        sequence_number=seq, proto=0x6558) / i, i
    if kind == "gre-ip":
        return o4 / GRE(proto=0x0800) / i[IP], i[IP]
    if kind == "erspan1":
        return o4 / GRE(proto=0x88be) / i, i
    if kind == "erspan2":
        return o4 / GRE(seqnum_present=1, sequence_number=seq, proto=0x88be) / \
            ERSPAN_II(ver=1, session_id=101, index=7) / i, i
    if kind == "erspan3":
        return o4 / GRE(seqnum_present=1, sequence_number=seq, proto=0x22eb) / \
            ERSPAN_III(ver=2, session_id=102, hw=4, d=1, gra=3, timestamp=ts) / i, i
    if kind == "erspan3-pf":
        return o4 / GRE(seqnum_present=1, sequence_number=seq, proto=0x22eb) / \
            ERSPAN_III(ver=2, session_id=103, hw=4, d=0, gra=3, o=1, timestamp=ts) / \
            ERSPAN_PlatformSpecific(platf_id=3, info1=0x1234, info2=0x5678) / i, i
    if kind == "vxlan":
        return o4 / UDP(sport=33000 + seq % 1000, dport=a.vxlan_port) / VXLAN(vni=5000, flags=0x08) / i, i
    if kind == "geneve":
        return o4 / UDP(sport=33000 + seq % 1000, dport=6081) / GENEVE(vni=6000, proto=0x6558) / i, i
    if kind == "tzsp":
        # TZSP: version 1, type 0 (received frame), encapsulation 1 (Ethernet), tag END (0x01).
        return o4 / UDP(sport=33000, dport=37008) / Raw(b"\x01\x00\x00\x01\x01") / i, i
    if kind == "gre6":
        return o6 / GRE(key_present=1, seqnum_present=1, key=0x66, sequence_number=seq,
                        proto=0x0800) / i[IP], i[IP]
    if kind == "vxlan6":
        return o6 / UDP(sport=33000 + seq % 1000, dport=a.vxlan_port) / VXLAN(vni=5006, flags=0x08) / i, i
    raise SystemExit("unknown kind %s" % kind)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("iface")
    p.add_argument("--ref", required=True)
    p.add_argument("--kinds", default=",".join(ALL))
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--skip-every", type=int, default=0)
    p.add_argument("--keepalives", type=int, default=0)
    p.add_argument("--pad", type=int, default=0)
    p.add_argument("--ref-kinds", default="", help="only these kinds go to the reference")
    p.add_argument("--extra-src", default="", help="also send every frame from this source; "
                   "those frames are not in the reference")
    p.add_argument("--vxlan-port", type=int, default=4789)
    p.add_argument("--smac", default="02:00:00:00:01:01")
    p.add_argument("--dmac", default="02:00:00:00:01:02")
    p.add_argument("--src", default="198.18.1.1")
    p.add_argument("--dst", default="198.18.1.2")
    p.add_argument("--src6", default="2001:db8:1::1")
    p.add_argument("--dst6", default="2001:db8:1::2")
    a = p.parse_args()
    kinds = a.kinds.split(",")
    ref_kinds = set(a.ref_kinds.split(",")) if a.ref_kinds else set(kinds)
    frames, refs, lost_per_kind, extra = [], [], {}, 0
    for s in range(a.count):
        for k in kinds:
            outer, ref = build(k, a, s)
            if a.extra_src:
                o = outer.copy()
                o[IP].src = a.extra_src
                del o[IP].chksum
                frames.append(raw(o))
                extra += 1
            if a.skip_every and k in SEQ_KINDS and s % a.skip_every == a.skip_every - 1:
                if s < a.count - 1:  # a gap is only visible once a later number arrives
                    lost_per_kind[k] = lost_per_kind.get(k, 0) + 1
                continue
            frames.append(raw(outer))
            if k in ref_kinds:
                refs.append(ref)
    for n in range(a.keepalives):  # GRE keepalive: protocol type 0, no payload
        frames.append(raw(Ether(src=a.smac, dst=a.dmac) / IP(src=a.src, dst=a.dst) / GRE(proto=0)))
    # Raw bytes under one link type: L3 kinds (gre-ip, gre6) are bare IP packets, which
    # compare_inner.py matches against our output after its synthesized Ethernet header.
    w = RawPcapWriter(a.ref, linktype=1)
    for r in refs:
        w.write(raw(r))
    w.close()
    s = conf.L2socket(iface=a.iface)
    for f in frames:
        s.send(f)
        time.sleep(0.0005)  # keep well under any receive-buffer limit; this is not a rate test
    s.close()
    print("sent %d lost %d keepalive %d extra %d" % (len(refs), sum(lost_per_kind.values()),
                                                    a.keepalives, extra))


if __name__ == "__main__":
    sys.exit(main())
