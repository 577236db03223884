#!/bin/bash
# Sequence accounting, interface statistics blocks, ERSPAN III timestamps and --split-by session,
# end to end through `portmirror decap`, on a capture crafted by scapy with known gaps, duplicates,
# reordering, a 32-bit wrap, sender restarts (far and near), two senders sharing a session ID and
# an IPv6 outer header
# (tests/data/sessions/make_sessions.py). Needs no root.
set -u
PY=/usr/bin/python3
SRC=${PM_SOURCE_DIR:?}
BIN=${PORTMIRROR:?}
DATA=$SRC/tests/data/sessions
TMP=${PM_TEST_TMP:-$(mktemp -d)}/sessions.$$
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT

if ! $PY -c 'import scapy.contrib.erspan' 2>/dev/null; then
  echo "SKIP: $PY has no scapy (apt-get install python3-scapy)"
  exit 77
fi
command -v tshark >/dev/null || { echo "SKIP: tshark not installed"; exit 77; }

fail=0
step() { echo "--- $*"; }
bad() { echo "FAIL: $*"; fail=1; }

$PY "$DATA/make_sessions.py" "$TMP/in.pcap" "$TMP/expected.json" || { echo "FAIL: generator"; exit 1; }

step "decap: per-session sequence counters in --stats-json and pcapng ISBs"
"$BIN" decap -r "$TMP/in.pcap" -w "$TMP/out.pcapng" --stats-json "$TMP/stats.json" 2>"$TMP/stderr" \
  || { cat "$TMP/stderr"; bad "decap exited $?"; }
tshark -r "$TMP/out.pcapng" -q 2>"$TMP/tshark.err" || bad "tshark cannot read out.pcapng: $(cat "$TMP/tshark.err")"
$PY "$DATA/check_sessions.py" "$TMP/expected.json" "$TMP/in.pcap" "$TMP/stats.json" "$TMP/out.pcapng" \
  || bad "counters (plain run)"
# An independent reader of the statistics blocks: capinfos (Wireshark's library) parses each ISB
# and reports one stat entry per interface (it does not print the counter values).
if capinfos -M "$TMP/out.pcapng" >"$TMP/capinfos" 2>&1; then
  grep -q "Number of interfaces in file: 5" "$TMP/capinfos" || bad "capinfos: $(grep -i 'interfaces in' "$TMP/capinfos")"
  [ "$(grep -c 'Number of stat entries = 1' "$TMP/capinfos")" -eq 5 ] || bad "capinfos: not one ISB per interface"
else
  bad "capinfos cannot read out.pcapng: $(tail -3 "$TMP/capinfos")"
fi

step "--dedup drops the second copy of (session, sequence)"
"$BIN" decap -r "$TMP/in.pcap" -w "$TMP/dedup.pcapng" --stats-json "$TMP/dedup.json" --dedup 2>"$TMP/stderr" \
  || { cat "$TMP/stderr"; bad "decap --dedup exited $?"; }
$PY "$DATA/check_sessions.py" "$TMP/expected.json" "$TMP/in.pcap" "$TMP/dedup.json" "$TMP/dedup.pcapng" --dedup \
  || bad "counters (--dedup)"

step "--timestamps erspan: ERSPAN III packets carry their hardware time (2 ms before capture)"
"$BIN" decap -r "$TMP/in.pcap" -w "$TMP/ts.pcapng" --stats-json "$TMP/ts.json" --timestamps erspan 2>"$TMP/stderr" \
  || { cat "$TMP/stderr"; bad "decap --timestamps erspan exited $?"; }
$PY "$DATA/check_sessions.py" "$TMP/expected.json" "$TMP/in.pcap" "$TMP/ts.json" "$TMP/ts.pcapng" --erspan-ts \
  || bad "timestamps (--timestamps erspan)"

step "--split-by session: one readable file per session, counts add up"
mkdir -p "$TMP/split"
"$BIN" decap -r "$TMP/in.pcap" -w "$TMP/split/s.pcapng" --stats-json "$TMP/split.json" --split-by session \
  2>"$TMP/stderr" || { cat "$TMP/stderr"; bad "decap --split-by session exited $?"; }
files=("$TMP"/split/*)
[ "${#files[@]}" -eq 5 ] || bad "expected 5 files, got ${#files[@]}: ${files[*]}"
# tshark reads every file (in parallel: each start-up costs about a second).
for i in "${!files[@]}"; do
  tshark -r "${files[$i]}" -T fields -e frame.number >"$TMP/n.$i" 2>"$TMP/e.$i" &
done
wait
total=0
for i in "${!files[@]}"; do
  grep -v "Running as user" "$TMP/e.$i" | grep -q . && bad "tshark on ${files[$i]}: $(cat "$TMP/e.$i")"
  n=$(wc -l <"$TMP/n.$i")
  echo "  $(basename "${files[$i]}"): $n packets"
  total=$((total + n))
done
[ "$total" -eq "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["inner_written"])' "$TMP/expected.json")" ] \
  || bad "split files hold $total packets"
$PY "$DATA/check_sessions.py" "$TMP/expected.json" "$TMP/in.pcap" "$TMP/split.json" "${files[@]}" \
  || bad "counters (--split-by session)"

[ $fail -eq 0 ] && echo "PASS" || echo "see $TMP (kept)"
[ $fail -eq 0 ] || trap - EXIT
exit $fail
