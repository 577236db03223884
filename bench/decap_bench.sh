#!/bin/bash
# Speed of `portmirror decap` against a plain copy by tcpdump and by tshark, in the same run
# (issue 2 "Speed"). Generates 1,000,000 GRE (key + sequence) frames of 64-1500 bytes as a pcap on
# /dev/shm, then times each tool reading it and writing /dev/shm. Target: decap >= 2x tcpdump's pps.
#
#   bench/decap_bench.sh [PORTMIRROR_BINARY] [PACKETS] [RUNS]
# The binary should be a Release build:
#   cmake -B build/rel -G Ninja -DCMAKE_BUILD_TYPE=Release -DPM_BUILD_TESTS=OFF
#   cmake --build build/rel --target portmirror
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/rel/apps/portmirror/portmirror}
n=${2:-1000000}
runs=${3:-3}
dir=$(mktemp -d /dev/shm/pm-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
in=$dir/gre.pcap

echo "generating $n GRE frames (key+seq, 64-1500 bytes) ..."
/usr/bin/python3 "$here/gen_gre_pcap.py" "$in" "$n"
ls -l "$in" | awk '{printf "input: %s bytes\n", $5}'
cat "$in" > /dev/null  # page cache warm for everyone

# best (lowest) wall time of $runs runs, in seconds
best() {
  local t best_t=""
  for _ in $(seq "$runs"); do
    rm -f "$dir"/out*
    local s e
    s=$(date +%s.%N)
    "$@" > /dev/null 2>&1
    e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l)
    if [ -z "$best_t" ] || [ "$(echo "$t < $best_t" | bc -l)" = 1 ]; then best_t=$t; fi
  done
  echo "$best_t"
}

t_pm=$(best "$bin" decap -q -r "$in" -w "$dir/out.pcapng")
t_pm_pcap=$(best "$bin" decap -q -r "$in" -w "$dir/out.pcap" --format pcap)
t_td=$(best tcpdump -r "$in" -w "$dir/out-tcpdump.pcap")
t_ts=$(best tshark -r "$in" -w "$dir/out-tshark.pcap" -F pcap)

# sanity: decap wrote every inner packet
"$bin" decap -r "$in" -w "$dir/out.pcapng" 2>&1 | head -1

pps() { echo "$n / $1" | bc -l | xargs printf "%.0f"; }
printf "%-44s %10s %14s %10s\n" tool seconds packets/s "vs tcpdump"
for row in "portmirror decap (pcapng)|$t_pm" "portmirror decap --format pcap|$t_pm_pcap" \
           "tcpdump -r IN -w OUT (plain copy)|$t_td" "tshark -r IN -w OUT (plain copy)|$t_ts"; do
  name=${row%|*}
  t=${row#*|}
  printf "%-44s %10.3f %14s %9.2fx\n" "$name" "$t" "$(pps "$t")" "$(echo "$t_td / $t" | bc -l)"
done
