// A rolling-origin backtest on a series' own tail: the model is fitted once, to the history before
// the first origin; then, hour by hour, it forecasts `horizon` hours from each origin and is moved
// on by the observed hour (ForecastModel::Observe, parameters kept). Every origin's forecast lies
// inside the history, so each gives `horizon` errors; together they are the error distribution at
// every lead time that intervals and sample paths draw from. After the last origin the model is
// moved on to the end of the history and forecasts from there: the backtest costs one fit and one
// pass, and yields the forecast too.
#ifndef SHADOWPLANE_FORECAST_BACKTEST_H_
#define SHADOWPLANE_FORECAST_BACKTEST_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "forecast/forecast_model.h"

namespace shadowplane::forecast {

struct BacktestOptions {
  // Hours forecast from each origin.
  int horizon = 48;
  // Hours forecast from the end of the history (at least `horizon`; 0: `horizon`).
  int forecast_horizon = 0;
  // Consecutive hourly origins, at most.
  int origins = 96;
  // Fewer origins than this (a short history) is no backtest.
  int min_origins = 12;
};

struct BacktestResult {
  std::string model;
  std::vector<double> parameters;  // fitted before the first origin
  int origins = 0;
  int horizon = 0;
  // errors[k * horizon + h]: actual minus forecast from origin k (oldest first) at lead h + 1.
  std::vector<double> errors;
  // Over every origin and lead: mean absolute error, M4's sMAPE (percent) and MASE (scaled by the
  // in-sample seasonal naive 24 error of the fitted history).
  double mae = 0, smape = 0, mase = 0;
  // The forecast from the end of the history (forecast_horizon hours).
  std::vector<double> forecast;
};

// FAILED_PRECONDITION when the history leaves fewer than min_origins origins after the model's
// min_history(); INVALID_ARGUMENT for a value that is not finite; the model's own fit errors.
absl::StatusOr<BacktestResult> RunBacktest(ForecastModel& model, absl::Span<const double> history,
                                           const BacktestOptions& options);

// Accuracy of forecasts against actuals (same layout), with `scale` the MASE denominator.
struct Accuracy {
  double mae = 0, smape = 0, mase = 0;
};
Accuracy Score(absl::Span<const double> actual, absl::Span<const double> forecast, double scale);

// The mean absolute seasonal-naive (lag `period`) error of `y`: MASE's denominator (1 when it is 0
// or `y` is too short).
double SeasonalScale(absl::Span<const double> y, int period = 24);

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_BACKTEST_H_
