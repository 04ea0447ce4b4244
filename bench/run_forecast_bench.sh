#!/usr/bin/env bash
# The forecasting benchmark, in one command: the default model's settings scored on the training
# data; every model of src/forecast/, the default and the seasonal naives on
# M4 Hourly (207 series, horizon 48; M4's sMAPE, MASE and OWA) against statsmodels'
# ExponentialSmoothing fitted to the same series in the same run, each on one core (core 0); then a
# refresh of FLEET synthetic series on both cores, cold and warm-started.
#
#   bench/run_forecast_bench.sh [M4_DIR] [FLEET]     (default ../shared/data/m4-hourly 100000)
set -euo pipefail
cd "$(dirname "$0")/.."

M4_DIR=${1:-../shared/data/m4-hourly}
FLEET=${2:-100000}
if [[ ! -f "$M4_DIR/Hourly-dev-train.csv" || ! -f "$M4_DIR/Hourly-dev-test.csv" ]]; then
  echo "The M4 Hourly data set (Hourly-dev-train.csv, Hourly-dev-test.csv) is not in $M4_DIR;" >&2
  echo "give its folder: bench/run_forecast_bench.sh /path/to/m4-hourly" >&2
  exit 2
fi
./deploy/install-deps.sh
# The baseline: Debian's statsmodels, for this benchmark only.
if ! dpkg-query -W -f='${db:Status-Status}' python3-statsmodels 2>/dev/null | grep -q installed; then
  apt-get install -y -q python3-statsmodels >/dev/null
fi
BUILD_DIR=${BUILD_DIR:-build-bench}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHADOWPLANE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target forecast_bench >/dev/null

WORK=$(mktemp -d /tmp/shadowplane-forecast-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
echo "== statsmodels $(/usr/bin/python3 -c 'import statsmodels; print(statsmodels.__version__)') on core 0"
taskset -c 0 /usr/bin/python3 bench/m4_statsmodels.py "$M4_DIR/Hourly-dev-train.csv" "$WORK"
echo "== the default's settings, chosen on the training data only (each scored on its last 48 hours)"
taskset -c 0 "$BUILD_DIR/bench/forecast_bench" tune --data_dir="$M4_DIR"
echo "== M4 Hourly, ours on core 0"
taskset -c 0 "$BUILD_DIR/bench/forecast_bench" m4 --data_dir="$M4_DIR" --statsmodels_dir="$WORK"
echo "== fleet refresh, both cores"
"$BUILD_DIR/bench/forecast_bench" fleet --series="$FLEET" --threads="$(nproc)"
