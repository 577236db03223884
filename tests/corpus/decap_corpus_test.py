#!/usr/bin/python3
"""Runs the real `portmirror decap` on every capture of the shared corpus and checks the result.

Per file (manifest.tsv row):
  1. `decap --linktype native` -> inner packet count and inner-tuple sha256 (corpus inner_tuples.py,
     i.e. the manifest's own tshark recipe) equal `expected_inner` / `inner_sha256`; --stats-json
     agrees with the count.
  2. `decap` with the defaults (pcapng, Ethernet everywhere) -> tcpdump reads it (same count), and
     tshark sees the inner protocol stacks the manifest lists behind the outermost tunnel.
Plus the decisions of docs/decisions/corpus.md for files without a single right answer.
Prints a table; exits 1 on any mismatch."""
import argparse
import collections
import concurrent.futures
import hashlib
import json
import os
import shutil
import subprocess
import sys

TUNNELS = ("gre", "vxlan", "geneve", "tzsp")


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def decode_as_args(decode_as):
    """manifest decode_as 'udp.port==31337,tzsp' -> (tshark args, portmirror args)."""
    if not decode_as or decode_as == "-":
        return [], []
    tshark, ours = [], []
    for item in decode_as.split(";"):
        item = item.strip()
        tshark += ["-d", item]
        sel, proto = item.split(",")
        port = sel.split("==")[1]
        ours += ["--%s-port" % proto, port]
    return tshark, ours


def inner_stacks(tunnel_stacks):
    """'10x eth:..:gre:erspan:eth:ip:icmp ; ...' -> Counter of the stacks behind the outer tunnel,
    as tshark shows them in a default (Ethernet) output: L3 payloads behind eth:ethertype."""
    out = collections.Counter()
    if not tunnel_stacks or tunnel_stacks == "-":
        return out
    for part in tunnel_stacks.split(" ; "):
        n, stack = part.split("x ", 1)
        layers = stack.split(":")
        i = next(k for k, l in enumerate(layers) if l in TUNNELS)
        rest = layers[i + 1:]
        if layers[i] == "gre" and rest and rest[0] == "erspan":
            rest = rest[1:]
        if rest and rest[0] in ("ip", "ipv6"):
            rest = ["eth", "ethertype"] + rest
        out[":".join(rest)] += int(n)
    return out


class Checker:
    def __init__(self, args):
        self.bin = args.portmirror
        self.corpus = os.path.join(args.shared, "corpus")
        self.tuples = os.path.join(self.corpus, "inner_tuples.py")
        self.work = args.work
        self.failures = []

    def decap(self, path, out, extra, stats=None, expect_rc=0):
        cmd = [self.bin, "decap", "-q", "-r", path, "-w", out] + extra
        if stats:
            cmd += ["--stats-json", stats]
        r = run(cmd)
        if r.returncode != expect_rc:
            raise RuntimeError("%s -> rc %d: %s" % (" ".join(cmd), r.returncode, r.stderr))
        return r

    def tuples_of(self, out, tshark_args):
        r = run(["/usr/bin/python3", self.tuples, out] + tshark_args)
        if r.returncode != 0:
            raise RuntimeError("inner_tuples.py %s: %s" % (out, r.stderr))
        lines = r.stdout.splitlines()
        digest = hashlib.sha256("".join(l + "\n" for l in lines).encode()).hexdigest()
        return lines, digest

    def check_file(self, row):
        f = row["file"]
        src = os.path.join(self.corpus, f)
        tshark_args, our_args = decode_as_args(row["decode_as"])
        base = os.path.join(self.work, f)
        res = {"file": f, "expected": int(row["expected_inner"]), "errors": []}
        err = res["errors"]
        try:
            # 1. native link types: the manifest's tuple recipe applies unchanged.
            native = base + ".native.pcapng"
            self.decap(src, native, ["--linktype", "native"] + our_args, stats=base + ".json")
            lines, digest = self.tuples_of(native, tshark_args)
            res["got"] = len(lines)
            res["sha_ok"] = digest == row["inner_sha256"]
            if len(lines) != res["expected"]:
                err.append("count %d != expected %d" % (len(lines), res["expected"]))
            if not res["sha_ok"]:
                err.append("inner sha256 %s != %s" % (digest[:16], row["inner_sha256"][:16]))
            with open(base + ".json") as j:
                stats = json.load(j)
            res["stats"] = stats
            if stats["inner_written"] != len(lines):
                err.append("stats inner_written %d != %d" % (stats["inner_written"], len(lines)))
            if stats["frames_read"] != int(row["packets"]):
                err.append("stats frames_read %d != %s" % (stats["frames_read"], row["packets"]))
            # 2. default output: tcpdump must read it, tshark must see the inner protocols.
            eth = base + ".eth.pcapng"
            self.decap(src, eth, our_args)
            t = run(["tcpdump", "-r", eth, "--count"])
            res["tcpdump"] = t.returncode == 0
            if t.returncode != 0 or ("%d packet" % len(lines)) not in t.stdout:
                err.append("tcpdump: rc %d, %r %r" % (t.returncode, t.stdout.strip(),
                                                       t.stderr.strip()[-200:]))
            p = run(["tshark", "-r", eth, "-T", "fields", "-e", "frame.protocols"] + tshark_args)
            if p.returncode != 0:
                err.append("tshark failed on default output: " + p.stderr[-200:])
            got = collections.Counter(p.stdout.splitlines())
            want = inner_stacks(row["tunnel_stacks"])
            res["protocols"] = dict(got)
            if want:
                if res["expected"] == int(row["tunnelled_frames"]):
                    if got != want:
                        err.append("tshark stacks %s != manifest %s" % (dict(got), dict(want)))
                elif not set(got) <= set(want):
                    err.append("tshark stacks %s not within manifest %s" % (dict(got), dict(want)))
        except Exception as e:  # noqa: BLE001 - report and continue with the next file
            err.append(str(e))
        return res

    # Decisions for files without a single right answer (docs/decisions/corpus.md).
    def check_decisions(self):
        out = []
        c = self.corpus

        def stats_of(name, extra):
            o = os.path.join(self.work, "decision-%s.pcapng" % len(out))
            s = o + ".json"
            self.decap(os.path.join(c, name), o, ["--linktype", "native"] + extra, stats=s)
            with open(s) as j:
                return o, json.load(j)

        # VXLAN reserved bits: accepted by default (as tshark, Linux), rejected with --strict.
        _, s = stats_of("suri_vxlan-non-zero-reserved-fields.pcap", ["--strict"])
        out.append(("vxlan reserved bits + --strict -> 0 inner, vxlan.malformed 10",
                    s["inner_written"] == 0 and s["errors"].get("vxlan.malformed") == 10))
        # BIG TCP frame with IPv6/UDP length 0: lengths from the frame, counted as info.
        _, s = stats_of("tcpdump_bigtcp-ipv6-vxlan-ipv6.pcap", [])
        out.append(("bigtcp: 1 inner, ip.length_from_frame noted",
                    s["inner_written"] == 1 and s["errors"].get("ip.length_from_frame", 0) >= 1))
        # gretap with outer fragments: reassembled (16 datagrams), 248 inner.
        _, s = stats_of("zeek_erspan-gretap-key.pcap", [])
        out.append(("gretap fragments: 248 inner, 16 reassembled",
                    s["inner_written"] == 248 and s["errors"].get("ip.frag_reassembled") == 16))
        # GRE in GRE: --depth all strips both levels; same count, innermost has no GRE left.
        o, s = stats_of("zeek_gre-within-gre.pcap", ["--depth", "all"])
        p = run(["tshark", "-r", o, "-T", "fields", "-e", "frame.protocols"]).stdout.splitlines()
        out.append(("gre-within-gre --depth all: 628 inner, no gre inside",
                    s["inner_written"] == 628 and len(p) == 628 and
                    not any("gre" in x for x in p)))
        # VXLAN x3: --depth all reaches the DNS packet.
        o, s = stats_of("zeek_vxlan-triple-v2.pcap", ["--depth", "all"])
        p = run(["tshark", "-r", o, "-T", "fields", "-e", "frame.protocols"]).stdout.splitlines()
        out.append(("vxlan-triple --depth all: 1 inner, DNS, no vxlan inside",
                    s["inner_written"] == 1 and len(p) == 1 and p[0].endswith("udp:dns") and
                    "vxlan" not in p[0]))
        # Malformed files: no inner packet, every tunnelled frame counted under a reason.
        for name in ("suri_decode-too-small.pcap", "zeek_geneve-truncated.pcapng",
                     "tcpdump_erspan-type-iii-pb-1.pcap"):
            _, s = stats_of(name, [])
            out.append(("%s: 0 inner, drops counted %s" % (name, s["errors"]),
                        s["inner_written"] == 0 and s["dropped"] >= 1 and sum(s["errors"].values()) >= 1))
        # ERSPAN II sessions: sequence accounting reported per session.
        _, s = stats_of("tcpdump_erspan-type-ii-3.pcap", [])
        ok = len(s["sessions"]) >= 1 and all(x["seq_packets"] == x["packets"] for x in s["sessions"])
        out.append(("erspan II sessions carry sequence stats %s" %
                    [(x["id"], x["packets"], x["seq_lost"]) for x in s["sessions"]], ok))
        return out

    # Command line: exit codes, -w - streaming, filter, several inputs.
    def check_cli(self):
        out = []
        c = self.corpus
        one = os.path.join(c, "zeek_erspanII.pcap")

        def rc(args):
            return run([self.bin, "decap", "-q"] + args).returncode

        out.append(("missing input -> exit 3",
                    rc(["-r", os.path.join(self.work, "nope.pcap"), "-w", "/dev/null"]) == 3))
        wifi = os.path.join(self.work, "wifi.pcap")
        with open(one, "rb") as src, open(wifi, "wb") as dst:
            b = bytearray(src.read())
            b[20] = 105
            dst.write(b)
        out.append(("link type 105 -> exit 4", rc(["-r", wifi, "-w", "/dev/null"]) == 4))
        out.append(("unwritable output -> exit 5",
                    rc(["-r", one, "-w", "/nonexistent-dir/o.pcapng"]) == 5))
        out.append(("disk full (/dev/full) -> exit 5", rc(["-r", one, "-w", "/dev/full"]) == 5))
        out.append(("bad filter -> exit 6", rc(["-r", one, "-w", "/dev/null", "host", "and"]) == 6))
        out.append(("bad option value -> exit 2", rc(["-r", one, "-w", "/dev/null",
                                                      "--format", "xyz"]) == 2))
        # -w - streams pcap into tcpdump.
        p = subprocess.run("%s decap -q -r %s -w - | tcpdump -r - --count" % (self.bin, one),
                           shell=True, capture_output=True, text=True)
        out.append(("-w - | tcpdump -r - : 4 packets", p.returncode == 0 and "4 packets" in p.stdout))
        # Filter on inner packets, two inputs in order.
        o = os.path.join(self.work, "cli-filter.pcap")
        two = os.path.join(c, "zeek_vxlan.pcap")
        r = run([self.bin, "decap", "-q", "-r", one, "-r", two, "-w", o, "--format", "pcap",
                 "--stats-json", o + ".json", "arp"])
        with open(o + ".json") as j:
            s = json.load(j)
        t = run(["tshark", "-r", o, "-T", "fields", "-e", "frame.protocols"]).stdout.splitlines()
        out.append(("two inputs + filter 'arp': 2 of 14 written, both ARP",
                    r.returncode == 0 and s["frames_read"] == 14 and s["inner_written"] == 2 and
                    s["filtered_out"] == 12 and t == ["eth:ethertype:arp"] * 2))
        # Split by session, every file read by tshark.
        pattern = os.path.join(self.work, "split", "s-%e-%k.pcapng")
        os.makedirs(os.path.dirname(pattern))
        r = run([self.bin, "decap", "-q", "-r", os.path.join(c, "tcpdump_erspan-type-i-4.pcap"),
                 "-w", pattern, "--split-by", "session"])
        files = sorted(os.listdir(os.path.dirname(pattern)))
        counts = [run(["tcpdump", "-r", os.path.join(os.path.dirname(pattern), f), "--count"]).stdout
                  for f in files]
        out.append(("split by session: %s %s" % (files, [x.strip() for x in counts]),
                    r.returncode == 0 and files == ["s-erspan1-none.pcapng", "s-gre-none.pcapng"]
                    and "88 packets" in counts[0] and "8 packets" in counts[1]))
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--portmirror", required=True)
    ap.add_argument("--shared", default=os.environ.get("PM_SHARED_DIR", "../shared"))
    ap.add_argument("--work", required=True)
    ap.add_argument("--jobs", type=int, default=4)
    args = ap.parse_args()
    if os.environ.get("PM_SHARED_DIR"):
        args.shared = os.environ["PM_SHARED_DIR"]
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    ck = Checker(args)
    with open(os.path.join(ck.corpus, "manifest.tsv")) as m:
        header = m.readline().rstrip("\n").split("\t")
        rows = [dict(zip(header, l.rstrip("\n").split("\t"))) for l in m if l.strip()]
    if len(rows) != 25:
        print("expected 25 manifest rows, got %d" % len(rows))
        return 1
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        results = list(ex.map(ck.check_file, rows))
    bad = 0
    print("%-44s %8s %5s %5s %7s  %s" % ("file", "expected", "got", "sha", "tcpdump", "result"))
    for r in results:
        ok = not r["errors"]
        bad += not ok
        print("%-44s %8d %5s %5s %7s  %s" % (r["file"], r["expected"], r.get("got", "-"),
                                             "ok" if r.get("sha_ok") else "BAD",
                                             "ok" if r.get("tcpdump") else "BAD",
                                             "ok" if ok else "; ".join(r["errors"])))
    print()
    for what, ok in ck.check_decisions() + ck.check_cli():
        bad += not ok
        print("%-4s %s" % ("ok" if ok else "FAIL", what))
    print("\n%d problem(s)" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
