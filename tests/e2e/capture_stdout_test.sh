#!/bin/bash
# portmirror capture -w - : the inner packets as a live capture stream on standard output, piped into
# a reader as one would into Wireshark (`portmirror capture -w - | wireshark -k -i -`). For --format
# pcap and pcapng, scapy sends mirrored traffic (GRE key+seq+checksum, ERSPAN II, VXLAN, L3 GRE) into
# the collector namespace while `... -w - | tee RAW | tcpdump -l -r -` runs. Checks:
#  - tcpdump prints every inner packet while the collector is still running (the stream is live,
#    not held in a buffer until exit), and exactly as many as were sent;
#  - after SIGINT the stream is one complete file of that format, which tshark reads, holding every
#    inner frame bit for bit and nothing else;
#  - the collector's messages and statistics go to stderr only: standard output is exactly one
#    file (its blocks or records walked from the magic number to the last byte, nothing between);
#  - the default format of -w - is pcap (the same rule as `portmirror decap -w -`).
. "$(dirname "$0")/lib/capture-lib.sh"

two_ns
SEND="/usr/bin/python3 $E2E_LIB/send_kinds.py snd-eth0 --smac $SND_MAC --dmac $COL_MAC"
KINDS=gre-kcs,erspan2,vxlan,gre-ip
COUNT=10

# pipe_pm NAME [capture args...]: `portmirror capture -w - ARGS 2>NAME.err | tee NAME.raw |
# tcpdump -l -r -` in the collector namespace, in the background. Sets PIPE_PM (the collector's PID,
# `ip netns exec` execs it; its exit status goes to NAME.rc) and PIPE_RD (the reader's).
pipe_pm() {
  local n=$1; shift
  rm -f "$W/$n.pid" "$W/$n.rc"
  ( ip netns exec "$(ns col)" "$PORTMIRROR" capture -w - "$@" 2>"$W/$n.err" &
    echo $! >"$W/$n.pid"; wait $!; echo $? >"$W/$n.rc" ) |
    tee "$W/$n.raw" | tcpdump -l -nn -r - >"$W/$n.lines" 2>"$W/$n.rderr" &
  PIPE_RD=$!
  track "$PIPE_RD"
  local i
  for i in $(seq 1 100); do [ -s "$W/$n.pid" ] && break; sleep 0.05; done
  PIPE_PM=$(cat "$W/$n.pid")
  track "$PIPE_PM"
  for i in $(seq 1 100); do
    grep -q "listening" "$W/$n.err" 2>/dev/null && return 0
    kill -0 "$PIPE_PM" 2>/dev/null || break
    sleep 0.05
  done
  echo "portmirror capture did not start:"; cat "$W/$n.err"
  return 1
}

# walk_stream FILE: prints "pcap N" / "pcapng N" (records / enhanced packet blocks) when FILE is
# exactly one capture file, every record or block inside it up to the last byte; else an error.
walk_stream() {
  /usr/bin/python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
if d[:4] == b"\x0a\x0d\x0d\x0a":
    e = "<" if d[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    o = n = 0
    while o + 12 <= len(d):
        t, l = struct.unpack(e + "II", d[o:o + 8])
        if l < 12 or l % 4 or o + l > len(d) or struct.unpack(e + "I", d[o + l - 4:o + l])[0] != l:
            sys.exit("bad block at offset %d" % o)
        n += t == 6
        o += l
    print("pcapng %d" % n if o == len(d) else "pcapng: %d stray bytes at the end" % (len(d) - o))
elif d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
    e = "<" if d[0] in (0xd4, 0x4d) else ">"
    o, n = 24, 0
    while o + 16 <= len(d):
        o += 16 + struct.unpack(e + "I", d[o + 8:o + 12])[0]; n += 1
    print("pcap %d" % n if o == len(d) else "pcap: %d stray bytes at the end" % (len(d) - o))
else:
    print("not a capture file: starts with %r" % d[:16])' "$1"
}

# wait_lines FILE N: up to 5 s for FILE to have N lines; prints the count.
wait_lines() {
  local i
  for i in $(seq 1 100); do [ "$(wc -l <"$1")" -ge "$2" ] && break; sleep 0.05; done
  wc -l <"$1"
}

run_format() {
  local fmt=$1 magic=$2 kind=$3; shift 3
  local n=pipe-$fmt
  log "capture -w - $* | tcpdump -l -r -   (expect $fmt)"
  pipe_pm "$n" "$@" --stats-json "$W/$n.json" || return
  local out sent live
  out=$(nx snd $SEND --ref "$W/$n.ref.pcap" --count "$COUNT" --kinds "$KINDS")
  sent=$(echo "$out" | awk '{print $2}')
  live=$(wait_lines "$W/$n.lines" "$sent")
  check "$fmt: tcpdump printed all $sent inner packets while the collector still runs (got $live)" \
    test "$live" = "$sent" -a -n "$sent"
  check "$fmt: the collector is still running" kill -0 "$PIPE_PM"
  kill -INT "$PIPE_PM"
  local i
  for i in $(seq 1 100); do kill -0 "$PIPE_RD" 2>/dev/null || break; sleep 0.05; done
  wait "$PIPE_RD"; local rd=$?
  check "$fmt: capture exits 0 on SIGINT (rc $(cat "$W/$n.rc" 2>/dev/null))" test "$(cat "$W/$n.rc" 2>/dev/null)" = 0
  sed 's/^/    err: /' "$W/$n.err"
  check "$fmt: tcpdump -r - read the stream to its end without error (rc $rd: $(head -c 200 "$W/$n.rderr" | tr '\n' ' '))" \
    test "$rd" = 0
  check "$fmt: $sent lines in the end, too" test "$(wc -l <"$W/$n.lines")" = "$sent"
  check "$fmt: standard output starts with the $fmt magic $magic" \
    test "$(head -c 4 "$W/$n.raw" | od -An -tx1 | tr -d ' \n')" = "$magic"
  local walk
  walk=$(walk_stream "$W/$n.raw")
  check "$fmt: standard output is one $kind file of $sent packets and nothing else ($walk)" \
    test "$walk" = "$kind $sent"
  check "$fmt: statistics on stderr" grep -q "tunnelled, $sent inner packets written" "$W/$n.err"
  check "$fmt: startup lines on stderr" grep -q "listening on" "$W/$n.err"
  check "$fmt: stats json: inner_written = $sent" test "$(json "$W/$n.json" "j['inner_written']")" = "$sent"
  check_inner "$fmt: the stream (read by tshark) holds every inner frame bit for bit" \
    "$W/$n.raw" "$W/$n.ref.pcap"
  local ts
  ts=$(tshark -r "$W/$n.raw" -T fields -e frame.number 2>"$W/$n.tshark.err" | wc -l)
  sed -i '/Running as user/d' "$W/$n.tshark.err"  # tshark's warning when run as root
  check "$fmt: tshark reads $ts frames from the stream, no error" \
    test "$ts" = "$sent" -a ! -s "$W/$n.tshark.err"
}

# pcap magic as written on this (little-endian) host; pcapng: the Section Header Block type.
run_format pcap d4c3b2a1 pcap --format pcap
run_format pcapng 0a0d0d0a pcapng --format pcapng
run_format default d4c3b2a1 pcap
finish
