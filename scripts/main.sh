#!/usr/bin/env bash
# Sets up the machine, builds, and runs the main job with the default config.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
./build/cimvp layer --rows 300 --cols 70 --a-bits 4 --w-bits 4 --json out.json "$@"
