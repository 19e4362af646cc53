#!/usr/bin/env bash
# Sets up the machine, builds, and runs the main job: the default quantized
# network (models/fmnist-bwma.cimvp) on the Fashion-MNIST test set with
# configs/default.json. Extra arguments go to `cimvp run` (e.g. --limit 500).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
./build/cimvp run --config configs/default.json --json run.json "$@"
