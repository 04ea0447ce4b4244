#!/usr/bin/env bash
# Does prediction pay? The trace-driven evaluation, in one command (bench/evaluation_main.cc):
# each committed configuration under bench/evaluation/ replayed through static, reactive and
# predictive (the real forecaster and planner) and the offline oracle; reactive's and
# predictive's settings chosen on the first half of the trace, every policy scored on the second.
# Prints one markdown table per configuration.
#
#   bench/run_evaluation.sh [EIA_DIR]      (EIA_DIR: default ../shared/data/eia-regions)
set -euo pipefail
cd "$(dirname "$0")/.."

EIA_DIR=${1:-../shared/data/eia-regions}
./deploy/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-bench}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHADOWPLANE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target evaluation >/dev/null

for config in bench/evaluation/*.yaml; do
  echo "## $config"
  "$BUILD_DIR/bench/evaluation" --config="$config" --eia_dir="$EIA_DIR"
  echo
done
