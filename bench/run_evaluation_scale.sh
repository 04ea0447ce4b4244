#!/usr/bin/env bash
# The trace-driven evaluation at fleet scale (bench/evaluation_scale_main.cc): 10,000 resources
# with the 13 EIA origin regions each (bench/evaluation/eia.yaml's regions, locations and prices;
# the traces are synthetic and generated per resource, so no data set is needed), 21 days of
# history, then one simulated day of hourly planner ticks with a refresh pass every 6 hours on
# every core. Prints each pass's and tick's time and the peak memory.
#
#   bench/run_evaluation_scale.sh [RESOURCES]     (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."

RESOURCES=${1:-10000}
./deploy/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-bench}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHADOWPLANE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target evaluation_scale >/dev/null
"$BUILD_DIR/bench/evaluation_scale" --config=bench/evaluation/eia.yaml --resources="$RESOURCES" \
  --hours=24 --refit_hours=6
