// Planning: the planner's dry run over stored forecasts, the catalog and the reservations'
// migrations, priced with the freeze model; the loop that decides every plan interval under the
// "planner" lease and, in auto mode, starts planned migrations; the stored decisions with
// ApplyDecision and the fleet's pause. Destroying it ends a tick in progress first.
#ifndef SHADOWPLANE_SERVER_WIRING_PLANNER_WIRING_H_
#define SHADOWPLANE_SERVER_WIRING_PLANNER_WIRING_H_

#include <memory>
#include <string>

#include "common/worker_pool.h"
#include "geo/distance.h"
#include "planner/decision_service.h"
#include "planner/plan_service.h"
#include "planner/planner_loop.h"
#include "server/periodic_task.h"
#include "server/server_options.h"
#include "server/wiring/forecast_wiring.h"
#include "server/wiring/migration_wiring.h"
#include "server/wiring/storage_wiring.h"
#include "server/wiring/wiring_context.h"

namespace shadowplane::server {

// The paths' window sums the planner reads (forecast/path_sums.h): over its default horizon
// (--plan_horizon), from each hour a forecast may be served at while it is fresh (up to
// --plan_max_forecast_age old, and the hour being filled).
forecast::PathSumsOptions PlannerPathSums(const ServerOptions& options);

class PlannerWiring {
 public:
  PlannerWiring(const ServerOptions& options, StorageWiring* storage, ForecastWiring* forecasting,
                MigrationWiring* migrations, const WiringContext& context);
  ~PlannerWiring();

  // Starts the planner loop; `replica` names this process in its lease.
  void StartLoop(const std::string& replica);

  planner::PlanService* plans() { return plans_.get(); }
  planner::DecisionService* decisions() { return decisions_.get(); }

 private:
  const PlanningSettings settings_;
  StorageWiring* const storage_;
  const WiringContext context_;
  // In dependency order: destruction is the teardown.
  const geo::RttModel rtt_;
  std::function<absl::StatusOr<std::string>(const planner::MoveOrder&)> start_move_;
  std::unique_ptr<planner::PlanService> plans_;
  std::unique_ptr<planner::DecisionService> decisions_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<planner::PlannerLoop> loop_;
  std::unique_ptr<PeriodicTask> task_;
};

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_WIRING_PLANNER_WIRING_H_
