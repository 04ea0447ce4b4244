#include "forecast/backtest.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace shadowplane::forecast {

double SeasonalScale(absl::Span<const double> y, int period) {
  if (static_cast<int>(y.size()) <= period) return 1;
  double sum = 0;
  for (size_t t = period; t < y.size(); ++t) sum += std::abs(y[t] - y[t - period]);
  const double scale = sum / (y.size() - period);
  return scale > 0 ? scale : 1;
}

Accuracy Score(absl::Span<const double> actual, absl::Span<const double> forecast, double scale) {
  Accuracy a;
  if (actual.empty()) return a;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double e = std::abs(actual[i] - forecast[i]);
    const double denominator = std::abs(actual[i]) + std::abs(forecast[i]);
    a.mae += e;
    a.smape += denominator > 0 ? 200 * e / denominator : 0;
  }
  a.mae /= actual.size();
  a.smape /= actual.size();
  a.mase = a.mae / scale;
  return a;
}

absl::StatusOr<BacktestResult> RunBacktest(ForecastModel& model, absl::Span<const double> y,
                                           const BacktestOptions& options) {
  if (absl::Status s = CheckFinite(y); !s.ok()) return s;
  const int n = static_cast<int>(y.size()), h = options.horizon;
  // Origins o0 .. n - h: each forecast ends inside the history.
  const int possible = n - h - model.min_history() + 1;
  if (possible < std::max(options.min_origins, 1)) {
    return absl::FailedPreconditionError(absl::StrCat(
        model.name(), ": ", n, " hours of history leave ", std::max(possible, 0),
        " backtest origins of ", h, " hours; at least ", options.min_origins, " are needed"));
  }
  const int origins = std::min(options.origins, possible);
  const int first = n - h - origins + 1;
  if (absl::Status s = model.Fit(y.first(first)); !s.ok()) return s;
  BacktestResult r;
  r.model = model.name();
  r.parameters = model.parameters();
  r.origins = origins;
  r.horizon = h;
  r.errors.resize(static_cast<size_t>(origins) * h);
  std::vector<double> forecasts(r.errors.size());
  std::vector<double> actuals(r.errors.size());
  for (int k = 0; k < origins; ++k) {
    const int o = first + k;
    const std::vector<double> f = model.Forecast(h);
    for (int j = 0; j < h; ++j) {
      const size_t i = static_cast<size_t>(k) * h + j;
      forecasts[i] = f[j];
      actuals[i] = y[o + j];
      r.errors[i] = y[o + j] - f[j];
    }
    model.Observe(y[o]);
  }
  for (int t = first + origins; t < n; ++t) model.Observe(y[t]);
  r.forecast = model.Forecast(std::max(h, options.forecast_horizon));
  for (double v : r.errors) {
    if (!std::isfinite(v)) {
      return absl::InternalError(absl::StrCat(model.name(), ": backtest forecasts not finite"));
    }
  }
  const Accuracy a = Score(actuals, forecasts, SeasonalScale(y.first(first)));
  r.mae = a.mae;
  r.smape = a.smape;
  r.mase = a.mase;
  return r;
}

}  // namespace shadowplane::forecast
