#!/usr/bin/python3
"""Checks `portmirror decap` results against make_sessions.py's expectations.

  check_sessions.py EXPECTED.json INPUT.pcap STATS.json OUT.pcapng... [--dedup] [--erspan-ts]

Reads the pcapng blocks itself (SHB/IDB/EPB/ISB, little or big endian), so the interface
statistics blocks (isb_ifrecv, isb_ifdrop) are checked byte for byte. Several OUT files (from
--split-by session) are taken together. Exit 1 with one line per mismatch.
"""
import json
import re
import struct
import sys

errors = []


def check(what, got, want):
    if got != want:
        errors.append("%s: got %r, want %r" % (what, got, want))


def read_pcap(path):
    """Classic pcap -> list of (ts_ns, bytes)."""
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nanos = struct.unpack(e + "I", data[:4])[0] == 0xA1B23C4D
    out, off = [], 24
    while off + 16 <= len(data):
        s, frac, caplen, _ = struct.unpack(e + "IIII", data[off:off + 16])
        out.append((s * 10**9 + frac * (1 if nanos else 1000), data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return out


def options(body, e):
    opts, off = [], 0
    while off + 4 <= len(body):
        code, length = struct.unpack(e + "HH", body[off:off + 4])
        if code == 0:
            break
        opts.append((code, body[off + 4:off + 4 + length]))
        off += 4 + ((length + 3) & ~3)
    return opts


def read_pcapng(path):
    """-> (interfaces [{name, description, tsresol}], packets [(ifid, ts_ns, data)], isbs {ifid: {code: u64}})"""
    data = open(path, "rb").read()
    off, e = 0, "<"
    itfs, pkts, isbs = [], [], {}
    while off + 12 <= len(data):
        btype = struct.unpack(e + "I", data[off:off + 4])[0]
        if btype == 0x0A0D0D0A:
            e = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            itfs = []
        blen = struct.unpack(e + "I", data[off + 4:off + 8])[0]
        if blen < 12 or off + blen > len(data):
            errors.append("%s: bad block length %d at %d" % (path, blen, off))
            break
        body = data[off + 8:off + blen - 4]
        if btype == 1:
            itf = {"name": "", "description": "", "tsresol": 6}
            for code, v in options(body[8:], e):
                if code == 2:
                    itf["name"] = v.decode("utf-8", "replace")
                elif code == 3:
                    itf["description"] = v.decode("utf-8", "replace")
                elif code == 9:
                    itf["tsresol"] = v[0]
            itfs.append(itf)
        elif btype == 6:
            ifid, hi, lo, caplen, _ = struct.unpack(e + "IIIII", body[:20])
            res = itfs[ifid]["tsresol"]
            units = (hi << 32) | lo
            if res & 0x80:
                ts = units * 10**9 // (1 << (res & 0x7F))
            else:
                ts = units * 10**9 // 10**res if res <= 9 else units // 10**(res - 9)
            pkts.append((ifid, ts, body[20:20 + caplen]))
        elif btype == 5:
            ifid = struct.unpack(e + "I", body[:4])[0]
            isbs[ifid] = {code: struct.unpack(e + "Q", v)[0] for code, v in options(body[12:], e)
                          if len(v) == 8}
        off += blen
    return itfs, pkts, isbs


def session_of_interface(itf, sessions):
    text = itf["name"] + " | " + itf["description"]
    for s in sessions:
        if re.search(r"(?<![0-9.])%s(?![0-9])" % re.escape(s["sender"]), text) and \
                re.search(r"(?<![0-9])%d(?![0-9])" % s["id"], text.replace(s["sender"], "")):
            return s
    return None


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    dedup = "--dedup" in sys.argv
    erspan_ts = "--erspan-ts" in sys.argv
    exp = json.load(open(args[0]))
    capture = {bytes(d[-40:]): ts for ts, d in read_pcap(args[1])}
    stats = json.load(open(args[2]))
    outs = args[3:]

    # With --dedup: every counted duplicate, plus replayed numbers seen before a restart was
    # recognised (make_sessions.py "dedup_dropped").
    written = exp["inner_written"] - (exp["duplicates"] if dedup else 0)
    for k in ("frames_read", "tunnelled", "untunnelled"):
        check("stats %s" % k, stats.get(k), exp[k])
    check("stats inner_written", stats.get("inner_written"), written)
    check("number of sessions", len(stats.get("sessions", [])), len(exp["sessions"]))
    for s in exp["sessions"]:
        got = [x for x in stats.get("sessions", []) if x.get("sender") == s["sender"]
               and x.get("encap") == s["encap"] and x.get("id") == s["id"]]
        if len(got) != 1:
            errors.append("session %s: %d entries in stats JSON" % (s["name"], len(got)))
            continue
        check("session %s receiver" % s["name"], got[0].get("receiver"), s["receiver"])
        for k, v in s["expect"].items():
            check("session %s %s" % (s["name"], k), got[0].get(k), v)

    total = 0
    isb_seen = {}
    for path in outs:
        itfs, pkts, isbs = read_pcapng(path)
        total += len(pkts)
        for ifid, ts, d in pkts:
            want = capture.get(bytes(d[-40:]))
            if want is None:
                errors.append("%s: packet not found in the input" % path)
                continue
            if erspan_ts and b"erspan3-" in d:
                want -= exp["erspan3_early_ns"]
            check("%s: timestamp of %r" % (path, d[-24:]), ts, want)
        for ifid, counters in isbs.items():
            s = session_of_interface(itfs[ifid], exp["sessions"])
            if s is None:
                errors.append("%s: ISB for unknown interface %r" % (path, itfs[ifid]))
                continue
            isb_seen[s["name"]] = isb_seen.get(s["name"], 0) + 1
            check("%s: %s isb_ifrecv" % (path, s["name"]), counters.get(4), s["expect"]["packets"])
            check("%s: %s isb_ifdrop" % (path, s["name"]), counters.get(5), s["expect"]["seq_lost"])
    check("packets in output", total, written)
    for s in exp["sessions"]:
        if s["name"] not in isb_seen:
            errors.append("no interface statistics block for session %s" % s["name"])
    for e in errors:
        print("MISMATCH:", e)
    print("checked %d output file(s), %d packets, %d ISBs: %s" %
          (len(outs), total, sum(isb_seen.values()), "FAIL" if errors else "ok"))
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
