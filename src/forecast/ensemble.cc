#include "forecast/ensemble.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "forecast/default_model.h"
#include "forecast/double_seasonal.h"
#include "forecast/level_only.h"
#include "forecast/seasonal_mean.h"
#include "forecast/seasonal_naive.h"

namespace shadowplane::forecast {

std::vector<std::unique_ptr<ForecastModel>> DefaultCandidates() {
  std::vector<std::unique_ptr<ForecastModel>> c;
  c.push_back(std::make_unique<DoubleSeasonal>(kDefaultMaxLevelSmoothing, 300));
  c.push_back(std::make_unique<SeasonalNaive>(24));
  c.push_back(std::make_unique<SeasonalNaive>(168));
  c.push_back(std::make_unique<SeasonalMean>(24, 7));
  c.push_back(std::make_unique<SeasonalMean>(168, 3));
  return c;
}

EnsembleForecast SimplestForecast(absl::Span<const double> y, int horizon, std::string note) {
  EnsembleForecast f;
  f.method = "fallback";
  f.horizon = 0;
  f.note = std::move(note);
  std::unique_ptr<ForecastModel> model = MakeFallbackModel(y.size());
  if (static_cast<int>(y.size()) >= model->min_history() && model->Fit(y).ok()) {
    f.models = {model->name()};
    f.parameters = {model->parameters()};
    f.point = model->Forecast(horizon);
  } else {
    f.models = {"last_value"};
    f.parameters = {{}};
    f.point.assign(horizon, y.empty() ? 0.0 : y.back());
  }
  f.weights = {1.0};
  return f;
}

absl::StatusOr<EnsembleForecast> ForecastEnsemble(
    std::vector<std::unique_ptr<ForecastModel>> candidates, absl::Span<const double> y,
    const EnsembleOptions& options) {
  if (y.empty()) return absl::FailedPreconditionError("no history to forecast from");
  if (absl::Status s = CheckFinite(y); !s.ok()) return s;
  const int n = static_cast<int>(y.size()), h = options.backtest.horizon;
  const int forecast_horizon = std::max(h, options.backtest.forecast_horizon);
  // Every candidate is backtested over the same origins: the first (preferred) candidate may
  // lower their number to what its history allows; a later one must manage as many.
  int origins = options.backtest.origins;
  std::vector<ForecastModel*> viable;
  for (const auto& c : candidates) {
    const int possible = n - h - c->min_history() + 1;
    if (possible < options.backtest.min_origins) continue;
    if (possible < origins && !viable.empty()) continue;
    viable.push_back(c.get());
    origins = std::min(origins, possible);
  }
  if (viable.empty()) {
    return SimplestForecast(
        y, forecast_horizon,
        absl::StrCat(n, " hours of history are too few to backtest any model over ",
                     options.backtest.min_origins, " origins of ", h,
                     " hours: the simplest adequate model is used, with no intervals"));
  }
  BacktestOptions backtest = options.backtest;
  backtest.origins = origins;
  EnsembleForecast f;
  f.horizon = h;
  f.origins = origins;
  for (ForecastModel* c : viable) {
    absl::StatusOr<BacktestResult> r = RunBacktest(*c, y, backtest);
    if (r.ok()) f.candidates.push_back(*std::move(r));
  }
  if (f.candidates.empty()) {
    EnsembleForecast fallback =
        SimplestForecast(y, forecast_horizon, "every candidate model failed its backtest");
    fallback.candidates_failed = true;
    return fallback;
  }
  // Each candidate's error on the origins selection looks at.
  const int recent = options.select_on_last_origins > 0
                         ? std::min(options.select_on_last_origins, origins)
                         : origins;
  std::vector<double> error(f.candidates.size(), 0.0);
  for (size_t i = 0; i < f.candidates.size(); ++i) {
    const std::vector<double>& e = f.candidates[i].errors;
    for (size_t k = static_cast<size_t>(origins - recent) * h; k < e.size(); ++k) {
      error[i] += std::abs(e[k]);
    }
    error[i] /= static_cast<double>(recent) * h;
  }
  size_t best = 0;
  for (size_t i = 1; i < f.candidates.size(); ++i) {
    if (error[i] < error[best]) best = i;
  }
  const double best_mae = error[best];
  bool clear = true;
  for (size_t i = 0; i < f.candidates.size(); ++i) {
    if (i != best && best_mae >= options.clear_win * error[i]) clear = false;
  }
  std::vector<size_t> used;
  std::vector<double> weights;
  if (clear) {
    used = {best};
    weights = {1.0};
  } else {
    double total = 0;
    for (size_t i = 0; i < f.candidates.size(); ++i) {
      if (error[i] > options.combine_within * best_mae) continue;
      // Inverse error; a perfect backtest (error 0) takes all the weight.
      const double w = 1.0 / std::max(error[i], 1e-12);
      used.push_back(i);
      weights.push_back(w);
      total += w;
    }
    for (double& w : weights) w /= total;
  }
  f.method = used.size() == 1 ? "selected" : "combined";
  f.point.assign(forecast_horizon, 0.0);
  f.errors.assign(static_cast<size_t>(origins) * h, 0.0);
  for (size_t u = 0; u < used.size(); ++u) {
    const BacktestResult& c = f.candidates[used[u]];
    f.models.push_back(c.model);
    f.weights.push_back(weights[u]);
    f.parameters.push_back(c.parameters);
    for (int j = 0; j < forecast_horizon; ++j) f.point[j] += weights[u] * c.forecast[j];
    for (size_t i = 0; i < f.errors.size(); ++i) f.errors[i] += weights[u] * c.errors[i];
  }
  // The combination's accuracy over the same origins: actual = forecast + error for every
  // candidate, so the combined forecast is actual minus the combined error.
  std::vector<double> actual(f.errors.size()), combined(f.errors.size());
  for (int k = 0; k < origins; ++k) {
    for (int j = 0; j < h; ++j) {
      const size_t i = static_cast<size_t>(k) * h + j;
      actual[i] = y[n - h - origins + 1 + k + j];
      combined[i] = actual[i] - f.errors[i];
    }
  }
  const Accuracy a = Score(actual, combined, SeasonalScale(y.first(n - h - origins + 1)));
  f.smape = a.smape;
  f.mase = a.mase;
  return f;
}

}  // namespace shadowplane::forecast
