// Computes a resource's demand forecast: reads its requests per hour from `demand_hourly` over the
// history window up to the current hour (which is still filling, so not included), selects or
// combines models for each origin region's series and for their total by rolling-origin backtest
// (forecast/ensemble.h), forecasts `stored_horizon_hours` from the current hour on, keeps what the
// intervals are made of (forecast/intervals.h), and samples joint paths of all series.
//
// Past known events (forecast/known_events.h) are taken out of the history first: time of day, day
// of week and season come from the models, events cover the rest.
//
// A resource with under two days of history borrows the hour-of-week profile of other resources'
// demand from its regions, scaled to its own level (model "pooled_profile"); under two weeks and
// four days it is forecast with daily seasonality only (ServiceCandidates).
//
// Faults never reach a caller as numbers: candidates that fail or diverge drop out; when none is
// left, or the history is too short to backtest, the simplest adequate model forecasts (the record
// says so), and a history with NaN or infinite hours is forecast by seasonal naive with those hours
// as zeros; all counted. Forecast values are clamped at zero (demand cannot be negative; additive
// models can undershoot on a quiet night). History before the resource's first recorded request is
// not used, so that a young resource is not fitted to weeks of zeros; after it, an hour without
// events is a zero.
//
// Metrics: shadowplane_forecast_fits_total{model}, shadowplane_forecast_fallbacks_total{reason},
// shadowplane_forecast_fit_seconds (one series). Thread-safe.
#ifndef SHADOWPLANE_FORECAST_FORECASTER_H_
#define SHADOWPLANE_FORECAST_FORECASTER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "forecast/demand_history.h"
#include "forecast/ensemble.h"
#include "forecast/forecast_model.h"
#include "forecast/intervals.h"
#include "forecast/known_events.h"
#include "forecast/path_sums.h"
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
  // Selection, combination and the backtest behind them; the backtest's horizon (48) is also the
  // sample paths' length.
  EnsembleOptions ensemble;
  IntervalOptions intervals;
  // Joint sample paths per resource.
  int sample_paths = 200;
  // The paths' window sums stored with them (the planner's read; none by default).
  PathSumsOptions path_sums;
};

// The candidate models for a series of `history_hours` hours.
using CandidateFactory =
    std::function<std::vector<std::unique_ptr<ForecastModel>>(int history_hours)>;

// The service's candidates: DefaultCandidates() (forecast/ensemble.h) with two weeks and the
// backtest's hours of history; before that, additive damped Holt-Winters, seasonal naive 24 and
// the mean of the last 3 days.
std::vector<std::unique_ptr<ForecastModel>> ServiceCandidates(int history_hours);

// One resource's computation: a record per series, and the joint sample paths of all of them
// (absent when some series has no backtest, e.g. too little history).
struct Computation {
  std::vector<store::ForecastRecord> records;
  std::optional<store::ForecastPathsRecord> paths;
  std::vector<store::PathSumsRecord> path_sums;
};

// Appends the records (setting their ids) and replaces the resource's sample paths and their
// window sums.
absl::Status StoreComputation(store::ForecastRepository& repository, Computation& computation);

// The joint sample paths' seed: FNV-1a over the resource id and the computation's time (Unix
// microseconds, little-endian), the same in every process (absl::Hash is seeded per process), so
// that the same history gives the same paths on every run and every machine: a forecast is
// reproducible, and so is the trace-driven evaluation.
uint64_t SamplePathSeed(const std::string& resource_id, absl::Time now);

// What one resource's computation reads: its hourly history up to the current hour (past known
// events taken out), other resources' demand from its regions on a cold start, and the bytes
// served per request by region (for the paths' window sums). Compute() reads it from the
// database; the trace-driven evaluation gives it from a trace.
struct ComputationInput {
  std::string resource_id;
  absl::Time now;  // computed_at; the forecast starts at the current hour, FloorHour(now)
  HourlyHistory history;
  // Other resources' demand from its regions, for a resource with under two days of its own
  // (the cold start, forecast/pooled_profile.h); unset otherwise.
  std::optional<HourlyHistory> others;
  std::map<std::string, double> bytes_per_request;
};

class Forecaster {
 public:
  // With `known_events`, the effects of past events are taken out of the history before fitting
  // (the models forecast the regular pattern; forecast/known_events.h).
  Forecaster(store::TelemetryRepository* telemetry, const Clock* clock, ForecasterOptions options,
             prometheus::Registry* registry, CandidateFactory candidates = nullptr,
             KnownEvents* known_events = nullptr);

  // One record per origin region with requests in the history, and one for "total", all with the
  // same computed_at (now) and first_hour (the current hour); ids unset (not stored). Warm starts
  // each series from `previous` (the resource's last forecast) when it has one for it.
  // FAILED_PRECONDITION when the resource has no requests in the history window;
  // DEADLINE_EXCEEDED when `deadline` passes and CANCELLED when `*cancelled` turns true (both
  // checked between series); UNAVAILABLE when the database is.
  absl::StatusOr<Computation> Compute(const std::string& resource_id,
                                      const std::vector<store::ForecastRecord>& previous,
                                      absl::Time deadline,
                                      const std::atomic<bool>* cancelled = nullptr);

  // The same from inputs given in memory (no database): DEADLINE_EXCEEDED and CANCELLED as above.
  absl::StatusOr<Computation> ComputeFrom(const ComputationInput& input,
                                          const std::vector<store::ForecastRecord>& previous,
                                          absl::Time deadline,
                                          const std::atomic<bool>* cancelled = nullptr);

  // One series: `history` (finite or not) ending just before `first_hour`. Never fails.
  store::ForecastRecord ForecastSeries(const std::string& origin_region,
                                       const std::vector<double>& history, absl::Time first_hour,
                                       const store::ForecastRecord* previous);

  const ForecasterOptions& options() const { return options_; }

 private:
  struct SeriesResult {
    store::ForecastRecord record;
    std::optional<EnsembleForecast> ensemble;  // absent for a history that was not finite
  };
  SeriesResult Series(const std::string& origin_region, const std::vector<double>& history,
                      absl::Time first_hour, const store::ForecastRecord* previous);
  // Cold start (forecast/pooled_profile.h): absent when there is no one to borrow from.
  std::optional<SeriesResult> Borrowed(const std::string& region, const std::vector<double>& own,
                                       const HourlyHistory& others, absl::Time first_hour);

  store::TelemetryRepository* const telemetry_;
  const Clock* const clock_;
  const ForecasterOptions options_;
  const CandidateFactory candidates_;
  KnownEvents* const known_events_;
  prometheus::Family<prometheus::Counter>* fits_ = nullptr;
  prometheus::Family<prometheus::Counter>* fallbacks_ = nullptr;
  prometheus::Histogram* fit_seconds_ = nullptr;
};

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_FORECASTER_H_
