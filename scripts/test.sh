#!/usr/bin/env bash
# Sets up the machine, builds, and runs the whole test suite (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
jobs=$(nproc 2>/dev/null || echo 2)
cd build
ctest -j "$jobs" --output-on-failure --timeout 600
