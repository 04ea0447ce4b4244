#!/usr/bin/env bash
# The planner benchmark, in one command: a throwaway PostgreSQL seeded with RESERVATIONS active
# reservations (13 origin regions, 3 candidate locations, a stored forecast with 200 joint sample
# paths and their window sums each, a day of hourly demand; bench/planner_bench.cc), then in the
# same run
#   (a) the floor: the planner's reads alone (reservations, the paths' window sums with the bytes
#       per request, migrations, a batch of 50 reservations a query; no writes), and
#   (b) one planner tick over them (decisions taken and recorded),
# on THREADS workers; prints both times, their ratio and the peak resident memory. With a third
# argument `paths`, the same again reading every reservation's sample paths instead of the sums
# (the read before the sums existed, and the one under a known event), on the same data.
#
#   bench/run_planner_bench.sh [RESERVATIONS] [THREADS] [paths]     (default 10000 2)
set -euo pipefail
cd "$(dirname "$0")/.."

RESERVATIONS=${1:-10000}
THREADS=${2:-2}
./deploy/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-bench}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHADOWPLANE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target planner_bench >/dev/null

source deploy/lib/throwaway-postgres.sh
start_throwaway_postgres
trap stop_throwaway_postgres EXIT
ADMIN_URL=$SHADOWPLANE_TEST_DATABASE_URL
psql -q "$ADMIN_URL" -c "CREATE DATABASE planner_bench" >/dev/null
DB_URL=${ADMIN_URL%/postgres}/planner_bench
"$BUILD_DIR/bench/planner_bench" --database_url="$DB_URL" --reservations="$RESERVATIONS" \
  --threads="$THREADS"
if [[ "${3:-}" == paths ]]; then
  echo "--- the same, reading the sample paths:"
  "$BUILD_DIR/bench/planner_bench" --database_url="$DB_URL" --reservations="$RESERVATIONS" \
    --threads="$THREADS" --skip_seed --read_paths
fi
