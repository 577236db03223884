#!/usr/bin/python3
"""compare_inner.py OURS REF

Bit-for-bit check of a collector's output against the original inner traffic. OURS is read by tshark
(converted to pcap by `tshark -F pcap`, which also proves tshark reads the file); REF is a pcap of the
original inner frames (from the sender, or a capture on the mirrored port). A REF frame that is a bare
IP packet (L3 GRE) matches one of ours whose bytes after the synthesized 14-byte Ethernet header
equal it.
Exit 0 when the multisets are equal; otherwise prints what is missing/extra and exits 1."""
import collections
import subprocess
import sys
import tempfile

from scapy.all import rdpcap, raw, Ether


def frames(path, via_tshark=True):
    """Frames of a capture; via_tshark converts it with tshark first (which must read it)."""
    if not via_tshark:
        with open(path, "rb") as f:
            if f.read(4) != b"\x0a\x0d\x0d\x0a":  # plain pcap: read directly
                return [raw(p) for p in rdpcap(path)]
    with tempfile.NamedTemporaryFile(suffix=".pcap") as t:
        r = subprocess.run(["tshark", "-r", path, "-F", "pcap", "-w", t.name],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("tshark cannot read %s: %s" % (path, r.stderr.strip()))
        return [raw(p) for p in rdpcap(t.name)]


def main():
    ours, ref = sys.argv[1], sys.argv[2]
    got = frames(ours)
    ref_frames = frames(ref, via_tshark=False)
    want = collections.Counter(ref_frames)
    extra = collections.Counter()
    for b in got:
        if want[b] > 0:
            want[b] -= 1
        elif want[b[14:]] > 0:
            want[b[14:]] -= 1
        else:
            extra[b] += 1
    missing = +want
    total_want = len(ref_frames)
    print("inner compare: %d expected, %d written, %d missing, %d extra" %
          (total_want, len(got), sum(missing.values()), sum(extra.values())))
    for b in list(missing)[:3]:
        print("  missing: %s" % b[:64].hex())
    for b in list(extra)[:3]:
        print("  extra:   %s" % b[:64].hex())
    return 0 if not missing and not extra else 1


if __name__ == "__main__":
    sys.exit(main())
