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
  double abs_sum = 0, smape_sum = 0;
  for (int k = 0; k < origins; ++k) {
    const int o = first + k;
    const std::vector<double> f = model.Forecast(h);
    double* e = &r.errors[static_cast<size_t>(k) * h];
    for (int j = 0; j < h; ++j) {
      e[j] = y[o + j] - f[j];
      const double denominator = std::abs(y[o + j]) + std::abs(f[j]);
      abs_sum += std::abs(e[j]);
      smape_sum += denominator > 0 ? 200 * std::abs(e[j]) / denominator : 0;
    }
    model.Observe(y[o]);
  }
  if (!std::isfinite(abs_sum) || !std::isfinite(smape_sum)) {
    return absl::InternalError(absl::StrCat(model.name(), ": backtest forecasts not finite"));
  }
  for (int t = first + origins; t < n; ++t) model.Observe(y[t]);
  r.forecast = model.Forecast(std::max(h, options.forecast_horizon));
  const double points = static_cast<double>(r.errors.size());
  r.mae = abs_sum / points;
  r.smape = smape_sum / points;
  r.mase = r.mae / SeasonalScale(y.first(first));
  return r;
}

}  // namespace shadowplane::forecast
