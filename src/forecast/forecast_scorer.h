// Scores stored forecasts against what happened, once their first `score_hours` hours have passed:
// sMAPE and MASE of the point forecast (MASE scaled by the seasonal naive error of the two weeks
// before the forecast), and how many of those hours fell inside the 80% and 95% intervals. The
// scores are stored with the forecast (Backtest and Predict report them per resource) and exported
// as histograms aggregated over every resource.
//
// Metrics: shadowplane_forecast_smape (one observation per scored series),
// shadowplane_forecast_interval_coverage{level="80"|"95"} (share of scored hours inside),
// shadowplane_forecasts_scored_total. Thread-safe; the refresher runs it under its lease.
#ifndef SHADOWPLANE_FORECAST_FORECAST_SCORER_H_
#define SHADOWPLANE_FORECAST_FORECAST_SCORER_H_

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "forecast/intervals.h"
#include "forecast/known_events.h"
#include "store/forecast_repository.h"
#include "store/telemetry_repository.h"

namespace prometheus {
class Registry;
class Counter;
class Histogram;
}  // namespace prometheus

namespace shadowplane::forecast {

struct ScorerOptions {
  int score_hours = 24;
  int max_per_pass = 2000;
  IntervalOptions intervals;
};

class ForecastScorer {
 public:
  // With `known_events`, a forecast is scored as Predict served it: with the known events applied
  // whose uplifts were known when it was computed (no hindsight from later outcomes).
  ForecastScorer(store::ForecastRepository* forecasts, store::TelemetryRepository* telemetry,
                 const Clock* clock, ScorerOptions options, prometheus::Registry* registry,
                 KnownEvents* known_events = nullptr);

  // Scores the forecasts due (at most max_per_pass); returns how many.
  absl::StatusOr<int> RunOnce();

 private:
  store::ForecastRepository* const forecasts_;
  store::TelemetryRepository* const telemetry_;
  const Clock* const clock_;
  const ScorerOptions options_;
  KnownEvents* const known_events_;
  prometheus::Histogram* smape_ = nullptr;
  prometheus::Histogram* coverage_80_ = nullptr;
  prometheus::Histogram* coverage_95_ = nullptr;
  prometheus::Counter* scored_ = nullptr;
};

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_FORECAST_SCORER_H_
