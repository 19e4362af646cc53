#!/usr/bin/env bash
# Sets up the machine, builds, and runs the whole test suite (what CI runs), then the hardening jobs
# (docs/hardening.md): the unit, property and cli tests under ASan and UBSan (build-asan/), and every
# libFuzzer harness for FUZZ_SECONDS seconds (build-fuzz/). The first job that fails ends the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
jobs=$(nproc 2>/dev/null || echo 2)
# The cli tests (label cli: the command line's behaviour, not whole networks) run once, in the sanitizer
# job below; everything else runs here, on the optimized build, but the 2-hour config soak (label soak,
# docs/hardening.md "Soak"), which is for a developer's machine.
(cd build && ctest -j "$jobs" -LE '^(cli|soak)$' --output-on-failure --timeout 600)
bash scripts/sanitize.sh
# 30 s per harness, two at a time on CI's two cores: 60 s of the CI's 30 minutes (docs/hardening.md).
FUZZ_SECONDS=${FUZZ_SECONDS:-30} bash scripts/fuzz.sh
