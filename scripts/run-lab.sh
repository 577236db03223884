#!/usr/bin/env bash
# Set up (Debian packages), build portmirror (release) and run the seed scenario: `portmirror lab`.
# Usage: sudo bash scripts/run-lab.sh [lab options, e.g. --count 20 --keep]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
cmake --preset release >/dev/null
cmake --build build/release -j "$(nproc)" --target portmirror >&2
exec build/release/apps/portmirror/portmirror lab "$@"
