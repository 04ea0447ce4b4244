// Forecasting: known events and their registry, the forecaster and the predictor behind
// ForecastService, and the refresher loop that refits due resources, scores past forecasts and
// measures ended events on worker threads. Destroying it cancels a pass in progress first.
#ifndef SHADOWPLANE_SERVER_WIRING_FORECAST_WIRING_H_
#define SHADOWPLANE_SERVER_WIRING_FORECAST_WIRING_H_

#include <memory>
#include <string>

#include "common/worker_pool.h"
#include "forecast/event_measurer.h"
#include "forecast/event_registry.h"
#include "forecast/forecast_refresher.h"
#include "forecast/forecast_scorer.h"
#include "forecast/forecaster.h"
#include "forecast/known_events.h"
#include "forecast/predictor.h"
#include "server/periodic_task.h"
#include "server/server_options.h"
#include "server/wiring/storage_wiring.h"
#include "server/wiring/wiring_context.h"

namespace shadowplane::server {

class ForecastWiring {
 public:
  // `path_sums`: the paths' window sums the planner reads (PlannerPathSums); `rtt`: placement's
  // round-trip times, for the best-location chain.
  ForecastWiring(const ForecastSettings& settings, forecast::PathSumsOptions path_sums,
                 geo::RttModel rtt, StorageWiring* storage, const WiringContext& context);
  ~ForecastWiring();

  // Starts the refresher loop; `replica` names this process in its lease.
  void StartLoop(const std::string& replica);

  forecast::Predictor* predictor() { return predictor_.get(); }
  forecast::EventRegistry* event_registry() { return event_registry_.get(); }

 private:
  const ForecastSettings settings_;
  StorageWiring* const storage_;
  const WiringContext context_;
  // In dependency order: destruction is the teardown.
  std::unique_ptr<forecast::KnownEvents> known_events_;
  std::unique_ptr<forecast::EventRegistry> event_registry_;
  std::unique_ptr<forecast::Forecaster> forecaster_;
  std::unique_ptr<forecast::Predictor> predictor_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<forecast::ForecastScorer> scorer_;
  std::unique_ptr<forecast::EventMeasurer> measurer_;
  std::unique_ptr<forecast::ForecastRefresher> refresher_;
  std::unique_ptr<PeriodicTask> loop_;
};

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_WIRING_FORECAST_WIRING_H_
