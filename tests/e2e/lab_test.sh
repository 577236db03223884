#!/usr/bin/env bash
# e2e: `portmirror lab`, the seed scenario end to end (issue 7). Runs the lab and checks its
# result against an independent computation: the expected copies are derived here from the
# packets the lab reports it generated, with protocols.md §4.2 sampling written again below,
# and compared with what tshark reads from the collector's pcapng file and with the mirror's and
# collector's own --stats-json. Also: nothing is left behind (namespaces, processes), --keep and
# --cleanup TAG, and the error when not root.
set -u
: "${PORTMIRROR:?set PORTMIRROR to the portmirror binary}"
TMP=${PM_TEST_TMP:-$(mktemp -d /tmp/lab-test-XXXXXX)}
rm -rf "$TMP"
mkdir -p "$TMP"

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: the lab needs root (network namespaces, veth, raw and packet sockets)"
  exit 77
fi
for tool in ip tshark; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: $tool is missing (apt-get install iproute2 tshark)"
    exit 77
  fi
done

FAILS=0
pass() { printf '  PASS: %s\n' "$*"; }
bad() { printf '  FAIL: %s\n' "$*"; FAILS=$((FAILS + 1)); }

# run_lab NAME ARGS... -> runs the lab with its own work dir and JSON report; sets RC.
run_lab() {
  local name=$1
  shift
  local dir=$TMP/$name
  mkdir -p "$dir"
  local t0=$SECONDS
  "$PORTMIRROR" lab -q --workdir "$dir" --report-json "$dir/report.json" "$@" >"$dir/out.txt" 2>&1
  RC=$?
  echo "[$name] portmirror lab $* -> exit $RC in $((SECONDS - t0)) s"
  sed -n '/== portmirror lab report ==/,$p' "$dir/out.txt" | sed 's/^/    /'
}

# no_leftovers NAME: the run's namespaces and child processes are gone.
no_leftovers() {
  local dir=$TMP/$1 tag
  tag=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tag"])' "$dir/report.json" 2>/dev/null)
  if [ -z "$tag" ]; then
    bad "$1: no tag in the report"
    return
  fi
  if ip netns list | grep -q "^$tag-"; then
    bad "$1: namespaces left behind: $(ip netns list | grep "^$tag-" | tr '\n' ' ')"
  else
    pass "$1: no namespace $tag-* left"
  fi
  # Every child the lab starts has a file in the work dir on its command line ("[m]" keeps
  # grep from finding its own command line).
  local left
  left=$(grep -l -a -- "$dir/[m]irror-stats\|$dir/[c]apture-stats\|$dir/[c]apture-display" \
    /proc/[0-9]*/cmdline 2>/dev/null | tr '\n' ' ')
  if [ -n "$left" ]; then bad "$1: processes left behind:$left"; else pass "$1: no process left"; fi
}

# verify NAME RATE RUN_LENGTH BINDING: independent expectation vs file, stats and report.
verify() {
  local dir=$TMP/$1
  tshark -r "$dir/lab.pcapng" -T fields -e ip.src -e ip.proto -e icmp.type -e udp.srcport -e data.data \
    >"$dir/tshark.txt" 2>"$dir/tshark.err"
  python3 - "$dir" "$2" "$3" "$4" <<'EOF'
import ipaddress, json, sys
d, rate, run_length, binding = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rep = json.load(open(f"{d}/report.json"))
fails = 0
def check(ok, what):
    global fails
    print(f"  {'PASS' if ok else 'FAIL'}: {what}")
    fails += 0 if ok else 1

# The seed's capture-filter: term 0-capture takes source 192.168.70.0/24 and 192.168.35.0/30.
nets = [ipaddress.ip_network("192.168.70.0/24"), ipaddress.ip_network("192.168.35.0/30")]
src_of = {"udp 49378>18252": "192.168.70.5", "udp 49380>16968": "192.168.70.5",
          "icmp echo request": "192.168.70.5", "icmp echo reply": "10.0.45.8",
          "udp from 192.168.71.5 (not in the filter)": "192.168.71.5"}
crossings = rep["generated"]["crossings"]
check(len([c for c in crossings if c["direction"] == "input"]) == rep["generated"]["packets"],
      f"{rep['generated']['packets']} packets generated, each crossed t1-1/0/3:3 inbound")
matched, expected = [], []
k = run = 0
for c in crossings:                       # protocols.md §4.2, deterministic
    if c["direction"] != binding:
        continue
    if not any(ipaddress.ip_address(src_of[c["kind"]]) in n for n in nets):
        continue
    matched.append(c)
    if run > 0:
        run -= 1; expected.append((c["kind"], c["seq"])); continue
    k += 1
    if k >= rate:
        k = 0; run = run_length; expected.append((c["kind"], c["seq"]))

# What tshark reads from the collector's pcapng.
got = []
for line in open(f"{d}/tshark.txt"):
    f = line.rstrip("\n").split("\t")
    payload = bytes.fromhex(f[4]).decode("ascii", "replace") if len(f) > 4 and f[4] else ""
    seq = int(payload[19:25]) if payload.startswith("portmirror-lab seq=") else None
    if f[1] == "1":
        kind = "icmp echo request" if f[2] == "8" else "icmp echo reply"
    elif f[0] == "192.168.71.5":
        kind = "udp from 192.168.71.5 (not in the filter)"
    else:
        kind = {"49378": "udp 49378>18252", "49380": "udp 49380>16968"}.get(f[3], "?")
    got.append((kind, seq))
check(sorted(got) == sorted(expected) and len(set(got)) == len(got),
      f"pcapng (read by tshark) holds exactly the {len(expected)} expected copies, each once "
      f"(got {len(got)})")
check([s for _, s in expected] == rep["expected"]["mirrored_seqs"],
      "the lab's own expectation agrees with this test's")

# The mirror's and the collector's statistics files.
ms = json.load(open(f"{d}/mirror-stats.json"))
inst = ms["instances"][0]
check(inst["matched"] == len(matched) and inst["sampled"] == len(expected) and inst["sent"] == len(expected),
      f"mirror stats: matched {inst['matched']} (want {len(matched)}), sampled {inst['sampled']}, "
      f"sent {inst['sent']} (want {len(expected)})")
cs = json.load(open(f"{d}/capture-stats.json"))
pk = sum(s["packets"] for s in cs.get("sessions", []))
lost = sum(s.get("seq_lost", 0) for s in cs.get("sessions", []))
check(pk == len(expected) and lost == 0, f"collector stats: {pk} packets in sessions, {lost} lost")
if expected:
    s = cs["sessions"][0]
    check(s["sender"] == "192.168.50.10" and s["receiver"] == "192.168.51.20" and s["encap"] == "gre",
          "one GRE session 192.168.50.10 -> 192.168.51.20, as the seed's gr-0/2/0.100")
    check(rep["wire"]["outer_ttl"] == [9], "outer TTL 9 on arrival (ttl 10, one transit hop)")
check(rep["generated"]["destination_udp_received"] ==
      sum(1 for c in crossings if c["direction"] == "input" and c["kind"].startswith("udp")),
      "the destination received every UDP packet (mirroring did not disturb forwarding)")
check(rep["verdict"]["ok"] is True, f"lab verdict ok (failures: {rep['verdict']['failures']})")
sys.exit(1 if fails else 0)
EOF
  [ $? -eq 0 ] || FAILS=$((FAILS + 1))
}

# 1. The seed as corrected: rate 1, run-length 1 -> every matching packet.
run_lab seed --count 40
[ "$RC" -eq 0 ] && pass "seed: exit 0" || bad "seed: exit $RC (see $TMP/seed/out.txt)"
verify seed 1 1 input
no_leftovers seed

# 2. Sampling visible: rate 3, run-length 1 (protocols.md §4.2).
run_lab sampled --count 40 --rate 3 --run-length 1
[ "$RC" -eq 0 ] && pass "sampled: exit 0" || bad "sampled: exit $RC"
verify sampled 3 1 input
no_leftovers sampled

# 3. The seed's own binding (`output`, braces fixed): the filter matches traffic FROM the
#    customer, which never leaves on t1-1/0/3:3, so nothing is mirrored -- and the lab says so.
#    Run with --keep: the namespaces stay (and no process), then --cleanup TAG removes them.
mkdir -p "$TMP/cfg"
sed -e 's/input capture-filter;/output capture-filter;/' "$TMP/seed/router.conf" >"$TMP/cfg/output.conf"
if grep -q 'output capture-filter;' "$TMP/cfg/output.conf"; then
  run_lab output --count 20 --config "$TMP/cfg/output.conf" --keep
  [ "$RC" -eq 0 ] && pass "output binding: exit 0" || bad "output binding: exit $RC"
  verify output 1 1 output
  tag=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tag"])' "$TMP/output/report.json" 2>/dev/null)
  if [ -n "$tag" ] && [ "$(ip netns list | grep -c "^$tag-")" -eq 5 ]; then
    pass "--keep left the 5 namespaces $tag-*"
  else
    bad "--keep: expected 5 namespaces $tag-*, have: $(ip netns list | grep "^$tag-" | tr '\n' ' ')"
  fi
  grep -q "portmirror lab --cleanup $tag" "$TMP/output/out.txt" && pass "--keep printed the cleanup command" ||
    bad "--keep did not print 'portmirror lab --cleanup $tag'"
  "$PORTMIRROR" lab --cleanup "$tag" >"$TMP/output/cleanup.txt" 2>&1
  if [ -n "$tag" ] && ! ip netns list | grep -q "^$tag-"; then
    pass "--cleanup $tag removed them"
  else
    bad "--cleanup $tag left: $(ip netns list | grep "^$tag-" | tr '\n' ' ')"
    for n in $(ip netns list | awk '{print $1}' | grep "^$tag-"); do ip netns del "$n"; done
  fi
  no_leftovers output
else
  bad "could not derive the output-bound configuration from $TMP/seed/router.conf"
fi

# 4. Not root: a clear message and ExitCode::kPermission (7).
if command -v setpriv >/dev/null 2>&1; then
  setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
    "$PORTMIRROR" lab --count 1 >"$TMP/nonroot.txt" 2>&1
  rc=$?
  if [ "$rc" -eq 7 ] && grep -q "must run as root" "$TMP/nonroot.txt"; then
    pass "not root: exit 7 with a clear message"
  else
    bad "not root: exit $rc: $(cat "$TMP/nonroot.txt")"
  fi
fi

if [ "$FAILS" -eq 0 ]; then
  echo "ALL CHECKS PASSED"
  exit 0
fi
echo "$FAILS CHECK(S) FAILED (work dirs under $TMP)"
exit 1
