#!/bin/sh
# Rewrites tests/golden/junos/*/expected.out from the current code; review the diff before committing.
set -eu
cd "$(dirname "$0")/../../.."
build=${BUILD_DIR:-build/dev}
cmake --build "$build" -j2 --target junos_golden_test
PM_GOLDEN_REGEN=1 "$build/tests/unit/junos/junos_golden_test" --gtest_filter='Junos/Golden.*'
git --no-pager diff --stat -- tests/golden/junos || true
