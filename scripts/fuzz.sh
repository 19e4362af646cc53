#!/usr/bin/env bash
# Builds the libFuzzer harnesses (testbench/fuzz, -DCIMVP_FUZZ=ON with clang) in ./build-fuzz and runs
# each for FUZZ_SECONDS seconds (default 60) on its seed corpus: the shipped files and the small ones
# fuzz_seeds generates (docs/hardening.md). Up to nproc harnesses run at once. Prints the executions
# of each; exits 1 when any harness found an input that crashes, trips a sanitizer, throws an
# unexpected exception, times out or runs out of memory: that input is kept in
# build-fuzz/fuzz/artifacts/<harness>/ and the harness's log in build-fuzz/fuzz/logs/.
# Extra arguments go to cmake. FUZZ_HARNESSES="fuzz_config ..." runs only those.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
harnesses=(${FUZZ_HARNESSES:-fuzz_model_file fuzz_trace_file fuzz_recording fuzz_config})
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
      -DCIMVP_FUZZ=ON -DCIMVP_WERROR=ON "$@" >/dev/null
cmake --build build-fuzz -j "$jobs"

bin=build-fuzz/testbench/fuzz
out=build-fuzz/fuzz
rm -rf "$out/seeds" "$out/artifacts" "$out/logs"
mkdir -p "$out/seeds" "$out/artifacts" "$out/logs"
"$bin/fuzz_seeds" "$out/generated"

# Each harness's seeds: the shipped files of its format, then the generated ones.
seeds() {
  case $1 in
    fuzz_model_file) echo models/*.cimvp "$out"/generated/model/* ;;
    fuzz_trace_file) echo traces/*.trace testbench/data/*.trace ;;
    fuzz_recording) echo traces/*.cimvprec "$out"/generated/recording/* ;;
    fuzz_config) echo configs/*.json "$out"/generated/config/* ;;
    *) echo "fuzz.sh: unknown harness $1" >&2; exit 2 ;;
  esac
}

run() {
  local h=$1
  mkdir -p "$out/seeds/$h" "$out/corpus/$h" "$out/artifacts/$h"
  cp $(seeds "$h") "$out/seeds/$h/"
  # -timeout: one input running longer is a hang; -rss_limit_mb (and the malloc limit, the same by
  # default): more memory than any input of a few hundred KiB may need is a finding.
  "$bin/$h" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$out/artifacts/$h/" "$out/corpus/$h" "$out/seeds/$h" >"$out/logs/$h.log" 2>&1
}

echo "fuzz: ${harnesses[*]}, $seconds s each, $jobs at a time"
declare -A pid_of
running=0
for h in "${harnesses[@]}"; do
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
  run "$h" &
  pid_of[$h]=$!
  running=$((running + 1))
done

failed=0
passed=0
for h in "${harnesses[@]}"; do
  status=0
  wait "${pid_of[$h]}" || status=$?
  log="$out/logs/$h.log"
  # The final stats, or (a run that stopped on a finding) the last status line, "#N ...".
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [[ -n $runs ]] || runs=$(sed -n 's/^#\([0-9][0-9]*\)[[:space:]].*/\1/p' "$log" | tail -1)
  corpus=$(ls "$out/corpus/$h" | wc -l)
  artifacts=$(ls "$out/artifacts/$h" | wc -l)
  if ((status != 0 || artifacts > 0)); then
    failed=$((failed + 1))
    echo "fuzz: $h: FAILED after ${runs:-?} executions (exit $status): $(ls -d "$out/artifacts/$h"/* 2>/dev/null | tr '\n' ' ')"
    grep -m 5 -E "ERROR: |runtime error|fuzz finding|terminate called|what\(\)" "$log" | sed 's/^/    /' || true
  else
    passed=$((passed + 1))
    echo "fuzz: $h: ${runs:-?} executions in $seconds s, $corpus inputs in the corpus, no finding"
  fi
done
echo "fuzz: $passed passed, $failed failed"
if ((failed)); then
  echo "fuzz: findings above; reproduce one with $bin/<harness> <input> (logs in $out/logs)"
  exit 1
fi
