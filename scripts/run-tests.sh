#!/usr/bin/env bash
# Set up (Debian packages), build with ASan+UBSan and run every test: unit, corpus, golden,
# fuzz-corpus replay, end-to-end in network namespaces (as root), then a short libFuzzer run.
# Usage: sudo bash scripts/run-tests.sh            (README quick start; .ci/run calls this)
#        PM_FUZZ_SECONDS=0 bash scripts/run-tests.sh   skip the fuzz run
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

jobs=$(nproc)
cmake --preset dev >/dev/null
cmake --build build/dev -j "$jobs"

if [ "$(id -u)" -ne 0 ]; then
  echo "run-tests: not root: tests labelled 'privileged' will skip themselves" >&2
fi
ctest --test-dir build/dev -j "$jobs" --output-on-failure --timeout 900

# A short coverage-guided fuzz run per target (clang + libFuzzer).
secs=${PM_FUZZ_SECONDS:-20}
if [ "$secs" -gt 0 ] && command -v clang++ >/dev/null; then
  cmake --preset fuzz >/dev/null
  cmake --build build/fuzz -j "$jobs"
  for f in build/fuzz/fuzz/*_fuzz; do
    [ -x "$f" ] || continue
    t=$(basename "$f" _fuzz)
    work=$(mktemp -d)
    cp -r fuzz/corpus/"$t"/. "$work"/ 2>/dev/null || true
    echo "fuzz: $t for ${secs}s"
    "$f" -seed="${PM_FUZZ_SEED:-1}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 "$work" \
      > "$work/log" 2>&1 || { tail -40 "$work/log"; exit 1; }
    rm -rf "$work"
  done
fi
echo "run-tests: all done"
