// Computes a resource's demand forecast: reads its requests per hour from `demand_hourly` over the
// history window up to the current hour (which is still filling, so not included), fits the
// default model (forecast/default_model.h) to each origin region's series and to their total, and
// forecasts `stored_horizon_hours` from the current hour on.
//
// Faults never reach a caller as numbers: a fit that fails or diverges, or values that are not
// finite, are replaced by seasonal naive's (the record names the model that made them and why),
// and counted. Forecast values are clamped at zero (demand cannot be negative; additive models
// can undershoot on a quiet night). History before the resource's first recorded request is not
// used, so that a young resource is not fitted to weeks of zeros; after it, an hour without events
// is a zero.
//
// Metrics: shadowplane_forecast_fits_total{model}, shadowplane_forecast_fallbacks_total{reason},
// shadowplane_forecast_fit_seconds (one series). Thread-safe.
#ifndef SHADOWPLANE_FORECAST_FORECASTER_H_
#define SHADOWPLANE_FORECAST_FORECASTER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "forecast/forecast_model.h"
#include "store/forecast_repository.h"
#include "store/telemetry_repository.h"

namespace prometheus {
class Registry;
class Counter;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane::forecast {

struct ForecasterOptions {
  // How far back the history goes (the double seasonal model initialises from up to 8 weeks).
  absl::Duration history = absl::Hours(24 * 7 * 8);
  // Values kept per stored forecast.
  int stored_horizon_hours = 174;
};

// Makes the model for a series of `history_hours` hours (MakeDefaultModel unless a test says
// otherwise).
using ModelFactory = std::function<std::unique_ptr<ForecastModel>(int history_hours)>;

class Forecaster {
 public:
  Forecaster(store::TelemetryRepository* telemetry, const Clock* clock, ForecasterOptions options,
             prometheus::Registry* registry, ModelFactory model = nullptr);

  // One record per origin region with requests in the history, and one for "total", all with the
  // same computed_at (now) and first_hour (the current hour); ids unset (not stored). Warm starts
  // each series from `previous` (the resource's last forecast) when it has one for it.
  // FAILED_PRECONDITION when the resource has no requests in the history window;
  // DEADLINE_EXCEEDED when `deadline` passes and CANCELLED when `*cancelled` turns true (both
  // checked between series); UNAVAILABLE when the database is.
  absl::StatusOr<std::vector<store::ForecastRecord>> Compute(
      const std::string& resource_id, const std::vector<store::ForecastRecord>& previous,
      absl::Time deadline, const std::atomic<bool>* cancelled = nullptr);

  // One series: `history` (finite or not) ending just before `first_hour`. Never fails.
  store::ForecastRecord ForecastSeries(const std::string& origin_region,
                                       const std::vector<double>& history, absl::Time first_hour,
                                       const store::ForecastRecord* previous);

  const ForecasterOptions& options() const { return options_; }

 private:
  store::TelemetryRepository* const telemetry_;
  const Clock* const clock_;
  const ForecasterOptions options_;
  const ModelFactory model_;
  prometheus::Family<prometheus::Counter>* fits_ = nullptr;
  prometheus::Family<prometheus::Counter>* fallbacks_ = nullptr;
  prometheus::Histogram* fit_seconds_ = nullptr;
};

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_FORECASTER_H_
