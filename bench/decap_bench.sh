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

# Best (lowest) of $runs runs: "wall_seconds cpu_seconds" (cpu = user + sys). On a shared machine
# the CPU time is the steadier measure; both are printed.
best() {
  local best_w="" best_c=""
  for _ in $(seq "$runs"); do
    rm -f "$dir"/out*
    /usr/bin/time -f "%e %U %S" -o "$dir/time" "$@" > /dev/null 2>&1
    read -r w u s < "$dir/time"
    local c
    c=$(echo "$u + $s" | bc -l)
    if [ -z "$best_w" ] || [ "$(echo "$w < $best_w" | bc -l)" = 1 ]; then best_w=$w; fi
    if [ -z "$best_c" ] || [ "$(echo "$c < $best_c" | bc -l)" = 1 ]; then best_c=$c; fi
  done
  echo "$best_w $best_c"
}

read -r w_pm c_pm < <(best "$bin" decap -q -r "$in" -w "$dir/out.pcapng")
read -r w_pmp c_pmp < <(best "$bin" decap -q -r "$in" -w "$dir/out.pcap" --format pcap)
read -r w_td c_td < <(best tcpdump -r "$in" -w "$dir/out-tcpdump.pcap")
read -r w_ts c_ts < <(best tshark -r "$in" -w "$dir/out-tshark.pcap" -F pcap)

# sanity: decap wrote every inner packet
"$bin" decap -r "$in" -w "$dir/out.pcapng" 2>&1 | head -1

pps() { echo "$n / $1" | bc -l | xargs printf "%.0f"; }
ratio() { echo "$1 / $2" | bc -l | xargs printf "%.2fx"; }
printf "%-36s %8s %12s %9s | %8s %12s %9s\n" tool wall_s pps_wall "vs tcpdump" cpu_s pps_cpu \
  "vs tcpdump"
for row in "portmirror decap (pcapng)|$w_pm|$c_pm" "portmirror decap --format pcap|$w_pmp|$c_pmp" \
           "tcpdump -r IN -w OUT (plain copy)|$w_td|$c_td" "tshark -r IN -w OUT (plain copy)|$w_ts|$c_ts"; do
  IFS='|' read -r name w c <<< "$row"
  printf "%-36s %8.2f %12s %9s | %8.2f %12s %9s\n" "$name" "$w" "$(pps "$w")" "$(ratio "$w_td" "$w")" \
    "$c" "$(pps "$c")" "$(ratio "$c_td" "$c")"
done
uptime
