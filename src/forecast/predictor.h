// ForecastService: Predict serves a resource's newest stored forecast from the current hour on,
// with the quantiles asked for and its joint sample paths, or computes (and stores) one when asked
// to (`refresh`), when none is stored, or when the stored one does not reach `horizon_hours` past
// the current hour. Backtest reports how each series' forecast was chosen and how past forecasts
// turned out. Known events (forecast/known_events.h) are applied to what is served, not stored:
// an event registered now changes the next answer, and stored forecasts stay the models' own.
// Thread-safe.
//
// Metrics: shadowplane_forecast_predictions_total{source="stored"|"computed"}.
#ifndef SHADOWPLANE_FORECAST_PREDICTOR_H_
#define SHADOWPLANE_FORECAST_PREDICTOR_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "forecast/forecaster.h"
#include "forecast/prediction.h"
#include "geo/distance.h"
#include "store/forecast_repository.h"
#include "store/location_repository.h"
#include "store/reservation_repository.h"
#include "store/telemetry_repository.h"

namespace prometheus {
class Registry;
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane::forecast {

struct PredictorOptions {
  int max_horizon_hours = 168;
  // How long computing a forecast for a request may take.
  absl::Duration compute_deadline = absl::Seconds(30);
  // How far back realized accuracy looks by default.
  absl::Duration realized_window = absl::Hours(24 * 7);
  // Round-trip times for the best-location chain: placement's model, measured overrides
  // included, so that the chain and the planner agree on which location is nearest.
  geo::RttModel rtt = geo::RttModel();
};

class Predictor {
 public:
  // `locations` and `reservations` (both or neither) answer best_location questions;
  // `known_events` applies known events to the forecasts served.
  Predictor(Forecaster* forecaster, store::ForecastRepository* forecasts,
            store::TelemetryRepository* telemetry, const Clock* clock, PredictorOptions options,
            prometheus::Registry* registry, store::LocationRepository* locations = nullptr,
            store::ReservationRepository* reservations = nullptr,
            KnownEvents* known_events = nullptr);

  // INVALID_ARGUMENT naming the field (resource_id, horizon_hours, quantiles, sample_paths),
  // NOT_FOUND for an unknown resource, FAILED_PRECONDITION when it has no demand to forecast from;
  // UNAVAILABLE when the database is.
  absl::StatusOr<Prediction> Predict(const PredictQuery& query);
  // INVALID_ARGUMENT (resource_id, realized_days), NOT_FOUND as Predict; FAILED_PRECONDITION when
  // nothing was forecast yet.
  absl::StatusOr<BacktestReport> Backtest(const BacktestQuery& query);

 private:
  absl::Status CheckResource(const std::string& id);
  absl::Status AnswerBestLocation(const std::string& id, absl::Time hour, int horizon,
                                  Prediction& prediction);

  Forecaster* const forecaster_;
  store::ForecastRepository* const forecasts_;
  store::TelemetryRepository* const telemetry_;
  const Clock* const clock_;
  const PredictorOptions options_;
  store::LocationRepository* const locations_;
  store::ReservationRepository* const reservations_;
  KnownEvents* const known_events_;
  prometheus::Family<prometheus::Counter>* predictions_ = nullptr;
};

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_PREDICTOR_H_
