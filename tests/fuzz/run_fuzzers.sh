#!/usr/bin/env bash
# Long fuzzing runs (./run fuzz --minutes N; docs/reliability.md): every fuzz target of
# BUILD_DIR for MINUTES minutes each, nproc targets at a time. New inputs go to
# BUILD_DIR/fuzz/corpus/NAME (seeded from tests/fuzz/corpus/NAME), crashes to
# BUILD_DIR/fuzz/artifacts/NAME/; any crash fails the run. Prints executions per target.
set -euo pipefail
build_dir="${1:?usage: run_fuzzers.sh BUILD_DIR MINUTES}"
minutes="${2:?usage: run_fuzzers.sh BUILD_DIR MINUTES}"
source_dir="$(cd "$(dirname "$0")" && pwd)"
seconds=$((minutes * 60))
targets=(ndjson wire values record_codec projector)
work="$build_dir/fuzz"
mkdir -p "$work"

run_one() {
  local name="$1"
  mkdir -p "$work/corpus/$name" "$work/artifacts/$name"
  "$build_dir/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/$name/" \
    "$work/corpus/$name" "$source_dir/corpus/$name" >"$work/$name.log" 2>&1
}

pids=()
status=0
for name in "${targets[@]}"; do
  run_one "$name" &
  pids+=($!)
  if ((${#pids[@]} >= $(nproc))); then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done

for name in "${targets[@]}"; do
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$name.log" | grep -o '[0-9]*$' || echo '?')
  crashes=$(find "$work/artifacts/$name" -type f | wc -l)
  echo "fuzz_$name: $runs executions in $minutes min, $crashes crash inputs (log: $work/$name.log)"
done
exit "$status"
