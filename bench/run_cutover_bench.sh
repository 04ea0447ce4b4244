#!/usr/bin/env bash
# The cutover benchmark, in one command: a planned migration of a resource holding SIZES MiB
# (default "16 512") while a client writes through HAProxy on its default connection reuse, one new
# connection per write, as a user's client would. Per size, one line: the server's write freeze
# (MigrationProgress.freeze_seconds: from the source no longer applying writes to writes applied
# again, forwarded to the target) next to the client's maximum, p99 and p50 write latency across
# the whole move, and how many writes failed; then the slowest of the writes in progress during
# the freeze against the slowest of the others (and the migration state it started in: source and
# target share this machine's disk, so a pre-copy's I/O slows the writes it meets).
#
#   bench/run_cutover_bench.sh [SIZES...]     (default 16 512)
#
# It runs the end-to-end test tests/migration/migration_process_test.cc (APlannedMove...), from
# the tests' build (RelWithDebInfo, as deploy/test.sh builds it), against a throwaway PostgreSQL on a free loopback port, as deploy/test.sh does; the
# test's own assertions (no acknowledged write lost, none failed) hold for every size.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=("${@:-16 512}")
read -r -a SIZES <<<"${SIZES[*]}"
./deploy/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target migration_process_test >/dev/null

source deploy/lib/throwaway-postgres.sh
start_throwaway_postgres 2>/dev/null

lines=()
for mib in "${SIZES[@]}"; do
  out=$(SHADOWPLANE_MIGRATION_DATA_MB=$mib "$BUILD_DIR/tests/migration_process_test" \
    --gtest_filter='*APlannedMoveUnderWrites*' 2>&1) || {
    echo "$out" | tail -40 >&2
    echo "the ${mib} MiB cutover failed (above: the test's output)" >&2
    exit 1
  }
  line=$(echo "$out" | grep '^cutover:')
  echo "$line"
  lines+=("$line")
done
echo "== server freeze vs what the client saw (ms; freeze writes: in progress during the freeze)"
printf '%8s %7s %6s %8s %8s %8s %8s %8s %9s %8s  %s\n' data_mib writes failed freeze \
  cl_max cl_p99 cl_p50 fr_writes fr_wr_max other_max "other max during"
for line in "${lines[@]}"; do
  declare -A f=()
  for kv in ${line#cutover: }; do f[${kv%%=*}]=${kv#*=}; done
  printf '%8s %7s %6s %8s %8s %8s %8s %8s %9s %8s  %s\n' "${f[data_mib]}" "${f[writes]}" \
    "${f[failed]}" "${f[server_freeze_ms]}" "${f[client_max_ms]}" "${f[client_p99_ms]}" \
    "${f[client_p50_ms]}" "${f[freeze_writes]}" "${f[freeze_writes_max_ms]}" \
    "${f[other_writes_max_ms]}" "${f[other_max_in]}"
done
