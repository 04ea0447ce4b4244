#include "server/wiring/forecast_wiring.h"

#include "common/log.h"

namespace shadowplane::server {

ForecastWiring::ForecastWiring(const ForecastSettings& settings,
                               forecast::PathSumsOptions path_sums, geo::RttModel rtt,
                               StorageWiring* storage, const WiringContext& context)
    : settings_(settings), storage_(storage), context_(context) {
  forecast::ForecasterOptions forecaster;
  forecaster.history = settings.forecast_history;
  // Stored forecasts reach the longest horizon even when they are refit_hours old.
  forecaster.stored_horizon_hours = settings.max_horizon_hours + settings.forecast_refit_hours;
  forecaster.sample_paths = settings.sample_paths;
  forecaster.path_sums = path_sums;
  known_events_ = std::make_unique<forecast::KnownEvents>(storage->events());
  event_registry_ =
      std::make_unique<forecast::EventRegistry>(storage->events(), context.clock, context.registry);
  forecaster_ =
      std::make_unique<forecast::Forecaster>(storage->telemetry(), context.clock, forecaster,
                                             context.registry, nullptr, known_events_.get());
  forecast::PredictorOptions predictor;
  predictor.max_horizon_hours = settings.max_horizon_hours;
  predictor.compute_deadline = settings.forecast_deadline;
  predictor.rtt = std::move(rtt);
  predictor_ = std::make_unique<forecast::Predictor>(
      forecaster_.get(), storage->forecasts(), storage->telemetry(), context.clock, predictor,
      context.registry, storage->locations(), storage->reservations(), known_events_.get());
}

ForecastWiring::~ForecastWiring() {
  if (refresher_ != nullptr) refresher_->Stop();  // a pass in progress ends between series
  loop_.reset();
  if (workers_ != nullptr) workers_->Shutdown();
}

void ForecastWiring::StartLoop(const std::string& replica) {
  forecast::RefresherOptions refresher;
  refresher.owner = replica;
  refresher.lease_ttl = 3 * settings_.forecast_interval;
  refresher.refit_hours = settings_.forecast_refit_hours;
  refresher.resource_deadline = settings_.forecast_deadline;
  refresher.retention = settings_.forecast_retention;
  refresher.max_in_flight = 2 * settings_.forecast_threads;
  workers_ =
      std::make_unique<WorkerPool>("forecast", settings_.forecast_threads, refresher.max_in_flight);
  scorer_ = std::make_unique<forecast::ForecastScorer>(storage_->forecasts(), storage_->telemetry(),
                                                       context_.clock, forecast::ScorerOptions{},
                                                       context_.registry, known_events_.get());
  measurer_ = std::make_unique<forecast::EventMeasurer>(
      forecaster_.get(), storage_->events(), storage_->telemetry(), known_events_.get(),
      context_.clock, forecast::MeasurerOptions{}, context_.registry);
  refresher_ = std::make_unique<forecast::ForecastRefresher>(
      forecaster_.get(), storage_->forecasts(), storage_->leases(), context_.clock, workers_.get(),
      refresher, context_.registry, scorer_.get(), measurer_.get());
  loop_ = StartPassLoop(settings_.forecast_interval, context_.database_ready, [this] {
    absl::StatusOr<forecast::ForecastRefresher::Pass> pass = refresher_->RunOnce();
    if (!pass.ok()) {
      LOG_EVENT(kWarning, "forecast refresh pass failed").Field("error", pass.status());
    }
    return pass.ok();
  });
}

}  // namespace shadowplane::server
