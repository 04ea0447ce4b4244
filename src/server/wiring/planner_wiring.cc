#include "server/wiring/planner_wiring.h"

#include "common/status_macros.h"

namespace shadowplane::server {

PlannerWiring::PlannerWiring(const ServerOptions& options, StorageWiring* storage,
                             ForecastWiring* forecasting, MigrationWiring* migrations,
                             const WiringContext& context)
    : rtt_(PlacementRtt(options.placement, context)) {
  planner::PlanServiceOptions plan;
  plan.defaults = options.planning.Defaults();
  plan.prices.latency_price_per_request_ms = options.planning.latency_price_per_request_ms;
  plan.prices.delayed_request_price = options.planning.delayed_request_price;
  plan.max_forecast_age = options.planning.plan_max_forecast_age;
  plan.sample_paths = options.forecast.sample_paths;
  plan.forecast_horizon_hours = options.forecast.max_horizon_hours;
  planner::PlanService::Sources sources;
  sources.reservations = storage->reservations();
  sources.locations = storage->locations();
  sources.migrations = storage->migrations();
  sources.predictor = forecasting->predictor();
  sources.rtt = &rtt_;
  sources.clock = context.clock;
  // A cutover's final round at the pre-copy's dirty threshold, priced by the fitted model.
  migration::FreezeModelKeeper* keeper = migrations->freeze_model();
  const int64_t final_round_bytes = options.migration.cutover_dirty_bytes;
  sources.expected_freeze_seconds = [keeper, final_round_bytes]() -> absl::StatusOr<double> {
    ASSIGN_OR_RETURN(const migration::FreezeModel model, keeper->Current());
    return model.Expected(final_round_bytes, 0);
  };
  plans_ = std::make_unique<planner::PlanService>(std::move(sources), std::move(plan));
}

}  // namespace shadowplane::server
