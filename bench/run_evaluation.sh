#!/usr/bin/env bash
# Does prediction pay? The trace-driven evaluation, in one command (bench/evaluation_main.cc):
# each committed configuration under bench/evaluation/ replayed through static, reactive and
# predictive (the real forecaster and planner) and the offline oracle; reactive's and
# predictive's settings chosen on the first half of the trace, every policy scored on the second.
# Prints one markdown table per configuration, and draws its plots with gnuplot (Debian's
# gnuplot-nox, installed when missing) into bench/results/<config>-demand.png and -cost.png.
#
#   bench/run_evaluation.sh [EIA_DIR]      (EIA_DIR: default ../shared/data/eia-regions)
set -euo pipefail
cd "$(dirname "$0")/.."

EIA_DIR=${1:-../shared/data/eia-regions}
./deploy/install-deps.sh
if ! command -v gnuplot >/dev/null; then
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd=sudo
  $sudo_cmd apt-get install -y -qq gnuplot-nox >/dev/null
fi
BUILD_DIR=${BUILD_DIR:-build-bench}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHADOWPLANE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target evaluation >/dev/null

mkdir -p bench/results
for config in bench/evaluation/*.yaml; do
  name=$(basename "$config" .yaml)
  echo "## $config"
  "$BUILD_DIR/bench/evaluation" --config="$config" --eia_dir="$EIA_DIR" \
    --plot_data="bench/results/$name"
  regions=$(head -1 "bench/results/$name-demand.dat" | awk '{print NF - 5}')
  placements=$(cat "bench/results/$name-placements.txt")
  gnuplot -e "prefix='bench/results/$name'; regions=$regions; placements='$placements'; title='$name: held-out half'" \
    bench/evaluation/plots.gp
  rm -f "bench/results/$name-demand.dat" "bench/results/$name-cost.dat" \
    "bench/results/$name-placements.txt"
  echo
done
