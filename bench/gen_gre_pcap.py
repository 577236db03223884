#!/usr/bin/python3
"""Writes a pcap of N Ethernet/IPv4/GRE(key, seq)/IPv4/UDP frames, frame sizes uniform in 64..1500,
for bench/decap_bench.sh. Deterministic (seeded). Usage: gen_gre_pcap.py OUT [N]"""
import random
import struct
import sys


def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, total, ident):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, ident & 0xFFFF, 0, 64, proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    rnd = random.Random(4242)
    payload = bytes(rnd.getrandbits(8) for _ in range(1600))
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    outer_src, outer_dst = bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2])
    inner_src, inner_dst = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    gre_flags = 0x3000  # K and S
    ts = 1_700_000_000
    with open(out, "wb", buffering=1 << 22) as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        chunks = []
        for i in range(n):
            size = rnd.randint(64, 1500)              # whole frame on the wire
            inner_len = size - 14 - 20 - 12           # inner IPv4 datagram
            udp_len = inner_len - 20
            inner = (ipv4(inner_src, inner_dst, 17, inner_len, i) +
                     struct.pack("!HHHH", 4000 + (i & 0xFF), 53, udp_len, 0) +
                     payload[: udp_len - 8])
            gre = struct.pack("!HHII", gre_flags, 0x0800, 1 + (i % 4), i + 1)
            outer = ipv4(outer_src, outer_dst, 47, 20 + len(gre) + len(inner), i)
            frame = eth + outer + gre + inner
            usec = i % 1_000_000
            chunks.append(struct.pack("<IIII", ts + i // 1_000_000, usec, len(frame), len(frame)))
            chunks.append(frame)
            if len(chunks) >= 8192:
                f.write(b"".join(chunks))
                chunks.clear()
        f.write(b"".join(chunks))


if __name__ == "__main__":
    main()
