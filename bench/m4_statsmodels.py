#!/usr/bin/python3
"""statsmodels' ExponentialSmoothing on M4 Hourly, the baseline of bench/run_forecast_bench.sh.

Fits each series of TRAIN_CSV with Debian's python3-statsmodels on one core and writes, for each
configuration, the 48-hour forecasts (id, f1..f48) to OUT_DIR/<config>.csv and the seconds spent on
fit + forecast per series to OUT_DIR/<config>.seconds. The C++ bench scores them with its scorer.

usage: m4_statsmodels.py TRAIN_CSV OUT_DIR
"""
import csv
import os
import sys
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from statsmodels.tsa.holtwinters import ExponentialSmoothing  # noqa: E402

HORIZON = 48
CONFIGS = {
    # What a platform engineer would write first.
    "statsmodels_damped": dict(trend="add", damped_trend=True, seasonal="add",
                               seasonal_periods=24),
    # The same with the trend's smoothing capped, statsmodels' best setting on this data.
    "statsmodels_damped_capped": dict(trend="add", damped_trend=True, seasonal="add",
                                      seasonal_periods=24,
                                      bounds={"smoothing_trend": (0.0, 0.01)}),
}


def read_series(path):
    with open(path, newline="") as f:
        rows = csv.reader(f)
        next(rows)
        for row in rows:
            values = [float(v) for v in row[1:] if v != ""]
            yield row[0], np.asarray(values)


def main():
    train, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    series = list(read_series(train))
    warnings.simplefilter("ignore")
    for name, config in CONFIGS.items():
        with open(os.path.join(out_dir, name + ".csv"), "w", newline="") as out, \
                open(os.path.join(out_dir, name + ".seconds"), "w") as seconds:
            writer = csv.writer(out)
            for sid, y in series:
                start = time.perf_counter()
                fit = ExponentialSmoothing(y, **config).fit()
                forecast = fit.forecast(HORIZON)
                seconds.write("%.6f\n" % (time.perf_counter() - start))
                writer.writerow([sid] + ["%.6f" % v for v in forecast])


if __name__ == "__main__":
    main()
