#!/usr/bin/python3
"""Crafts a capture of interleaved mirror sessions with known sequence events, for
tests/e2e/sessions_test.sh (scapy 2.5 via /usr/bin/python3).

  make_sessions.py OUT.pcap EXPECTED.json

Each session's GRE sequence list is written out below, and next to it the counts that
docs/sessions.md's definitions give for it (worked out by hand, not by running the tracker).
Inner frames are Ethernet/IPv4/UDP whose payload names the session and the packet's position.
"""
import json
import sys

from scapy.all import Ether, IP, IPv6, UDP, GRE, Raw, wrpcap
from scapy.contrib.erspan import ERSPAN_II, ERSPAN_III

RECEIVER = "198.18.0.100"
T0_NS = 1_700_000_000 * 10**9  # first frame's capture time; +1 ms per frame
ERSPAN3_EARLY_NS = 2_000_000   # ERSPAN III stamps are 2 ms before capture time

SESSIONS = [
    {
        # GRE key 100 + seq, TEB payload. 10,11 lost; 20 twice; 23 before 22 (22 fills the gap).
        "name": "gre-key", "sender": "198.18.0.1", "encap": "gre", "id": 100,
        "seqs": list(range(0, 10)) + list(range(12, 20)) + [20, 20, 21, 23, 22] + list(range(24, 30)),
        "expect": {"packets": 29, "seq_lost": 2, "seq_duplicate": 1, "seq_reordered": 1,
                   "seq_restarts": 0},
    },
    {
        # ERSPAN II session 7 across the 32-bit wrap; 2 lost after the wrap.
        "name": "erspan2-wrap", "sender": "198.18.0.2", "encap": "erspan2", "id": 7,
        "seqs": list(range(0xFFFFFFF8, 0x100000000)) + [0, 1, 3] + list(range(4, 10)),
        "expect": {"packets": 17, "seq_lost": 1, "seq_duplicate": 0, "seq_reordered": 0,
                   "seq_restarts": 0},
    },
    {
        # ERSPAN III session 9: the sender reboots after 5019 and starts again at 0; then a
        # duplicate of 5. The reboot is a restart, not ~4 billion lost.
        "name": "erspan3-restart", "sender": "198.18.0.3", "encap": "erspan3", "id": 9,
        "seqs": list(range(5000, 5020)) + list(range(0, 10)) + [5],
        "expect": {"packets": 31, "seq_lost": 0, "seq_duplicate": 1, "seq_reordered": 0,
                   "seq_restarts": 1},
    },
    {
        # A second sender with the same ERSPAN II session ID 7: its own session. Starts at 1;
        # 4 lost; 7 twice; 10 before 9 (9 fills the gap).
        "name": "erspan2-second-sender", "sender": "198.18.0.4", "encap": "erspan2", "id": 7,
        "seqs": [1, 2, 3, 5, 6, 7, 7, 8, 10, 9],
        "expect": {"packets": 10, "seq_lost": 1, "seq_duplicate": 1, "seq_reordered": 1,
                   "seq_restarts": 0},
    },
    {
        # GRE over IPv6, key 200: the sender reboots after only 30 packets and replays 0..15. The
        # replay is recognised at its 8th number (kRestartRun); the 7 before were duplicates at the
        # time, so --dedup drops them (documented limit).
        "name": "gre6-early-restart", "sender": "2001:db8::5", "receiver": "2001:db8::100",
        "encap": "gre", "id": 200,
        "seqs": list(range(0, 30)) + list(range(0, 16)),
        "expect": {"packets": 46, "seq_lost": 0, "seq_duplicate": 0, "seq_reordered": 0,
                   "seq_restarts": 1},
        "dedup_dropped": 7,
    },
]


def inner(name, n):
    return (Ether(src="02:00:00:00:aa:01", dst="02:00:00:00:aa:02") /
            IP(src="198.19.0.1", dst="198.19.0.2") / UDP(sport=40000, dport=50000) /
            Raw(("%s:%d" % (name, n)).encode()))


def frame(s, n, seq, t_ns):
    if ":" in s["sender"]:
        outer = Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02") / \
            IPv6(src=s["sender"], dst=s["receiver"], nh=47)
    else:
        outer = Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02") / IP(src=s["sender"], dst=RECEIVER)
    if s["encap"] == "gre":
        return outer / GRE(key_present=1, seqnum_present=1, key=s["id"], sequence_number=seq,
                           proto=0x6558) / inner(s["name"], n)
    if s["encap"] == "erspan2":
        return outer / GRE(seqnum_present=1, sequence_number=seq, proto=0x88BE) / \
            ERSPAN_II(ver=1, session_id=s["id"], index=3) / inner(s["name"], n)
    ts = ((t_ns - ERSPAN3_EARLY_NS) // 100_000) & 0xFFFFFFFF  # Gra 00: 100 µs, like Linux
    return outer / GRE(seqnum_present=1, sequence_number=seq, proto=0x22EB) / \
        ERSPAN_III(ver=2, session_id=s["id"], hw=1, gra=0, timestamp=ts) / inner(s["name"], n)


def main():
    out, expected_path = sys.argv[1], sys.argv[2]
    frames = []
    cursors = [0] * len(SESSIONS)
    t_ns = T0_NS
    # Round-robin interleaving of the sessions, plus one untunnelled frame in the middle.
    while any(c < len(s["seqs"]) for c, s in zip(cursors, SESSIONS)):
        for i, s in enumerate(SESSIONS):
            if cursors[i] >= len(s["seqs"]):
                continue
            p = frame(s, cursors[i], s["seqs"][cursors[i]], t_ns)
            p.time = t_ns / 1e9
            frames.append(p)
            cursors[i] += 1
            t_ns += 1_000_000
            if len(frames) == 20:
                u = Ether() / IP(src="198.18.0.50", dst=RECEIVER) / UDP(sport=1, dport=2) / Raw(b"plain")
                u.time = t_ns / 1e9
                frames.append(u)
                t_ns += 1_000_000
    wrpcap(out, frames)
    for s in SESSIONS:
        assert s["expect"]["packets"] == len(s["seqs"]), s["name"]
    total_inner = sum(len(s["seqs"]) for s in SESSIONS)
    dups = sum(s["expect"]["seq_duplicate"] + s.get("dedup_dropped", 0) for s in SESSIONS)
    for s in SESSIONS:
        s.setdefault("receiver", RECEIVER)
    json.dump({"frames_read": len(frames), "tunnelled": total_inner,
               "untunnelled": 1, "inner_written": total_inner, "duplicates": dups,
               "erspan3_early_ns": ERSPAN3_EARLY_NS,
               "sessions": [{k: s[k] for k in ("name", "sender", "receiver", "encap", "id", "expect")}
                            for s in SESSIONS]},
              open(expected_path, "w"), indent=1)


if __name__ == "__main__":
    main()
