#!/usr/bin/env bash
# Builds every fuzz target with clang (libFuzzer, AddressSanitizer, UndefinedBehaviorSanitizer)
# and runs each for SECONDS (default 600) from the committed seed corpus, one after another, then
# prints per target its executions per second, corpus size and coverage (libFuzzer's "cov", edges
# reached, and "ft", features), so that a shallow target shows. New inputs go to a scratch corpus
# beside the build, never into the committed one; crashes are kept there as crash-* files.
#   bench/fuzz/run.sh [SECONDS] [TARGET...]
# Environment: BUILD_DIR (default build-fuzz), JOBS (default nproc), SKIP_BUILD=1 to run what
# an earlier call built (for running several calls side by side on disjoint targets).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH="${1:-600}"
shift || true
BUILD_DIR="${BUILD_DIR:-build-fuzz}"
JOBS="${JOBS:-$(nproc)}"
command -v clang++ >/dev/null || { echo "clang++ is missing: apt-get install clang" >&2; exit 1; }

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(sync_delta pull_source pull_target manifest config_yaml demand_csv http_request api_requests)
fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++ -DSHADOWPLANE_FUZZ=ON -DSHADOWPLANE_BUILD_TESTS=OFF >/dev/null
  ninja -C "$BUILD_DIR" -j "$JOBS" $(printf '%s_fuzzer ' "${targets[@]}")
fi
summary="$BUILD_DIR/fuzz-summary-$(IFS=-; echo "${targets[*]}").txt"
printf '%-14s %10s %10s %8s %8s %8s %s\n' target seconds exec/s corpus cov ft result > "$summary"
status=0
for t in "${targets[@]}"; do
  work="$BUILD_DIR/fuzz-work/$t"
  mkdir -p "$work/corpus"
  log="$work/log.txt"
  echo "fuzzing $t for ${SECONDS_EACH}s" >&2
  leaks=1
  # pull_target runs a gRPC server for the life of the process: gRPC frees a call's memory on
  # later calls and its worker threads at the server's shutdown, so libFuzzer's leak check after
  # each input would report gRPC's memory. Its inputs are replayed by the normal suite, whose
  # sanitizer build (deploy/sanitize.sh) checks for leaks at exit.
  [ "$t" = pull_target ] && leaks=0
  set +e
  ASAN_OPTIONS="detect_leaks=$leaks${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
  "$BUILD_DIR/bench/fuzz/${t}_fuzzer" "$work/corpus" "bench/fuzz/corpus/$t" \
    -max_total_time="$SECONDS_EACH" -print_final_stats=1 -rss_limit_mb=2048 -timeout=30 \
    -artifact_prefix="$work/" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo 0)
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo 0)
  corpus=$(find "$work/corpus" -type f | wc -l)
  result=ok
  if [ "$rc" -ne 0 ]; then result="FAILED (see $log)"; status=1; fi
  printf '%-14s %10s %10s %8s %8s %8s %s\n' "$t" "$SECONDS_EACH" "$execs" "$corpus" "$cov" "$ft" \
    "$result" >> "$summary"
done
cat "$summary"
exit "$status"
