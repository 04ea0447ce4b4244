// Planning: the planner's dry run over stored forecasts, the catalog and the reservations'
// migrations, priced with the freeze model.
#ifndef SHADOWPLANE_SERVER_WIRING_PLANNER_WIRING_H_
#define SHADOWPLANE_SERVER_WIRING_PLANNER_WIRING_H_

#include <memory>

#include "geo/distance.h"
#include "planner/plan_service.h"
#include "server/server_options.h"
#include "server/wiring/forecast_wiring.h"
#include "server/wiring/migration_wiring.h"
#include "server/wiring/storage_wiring.h"
#include "server/wiring/wiring_context.h"

namespace shadowplane::server {

class PlannerWiring {
 public:
  PlannerWiring(const ServerOptions& options, StorageWiring* storage, ForecastWiring* forecasting,
                MigrationWiring* migrations, const WiringContext& context);

  planner::PlanService* plans() { return plans_.get(); }

 private:
  // In dependency order: destruction is the teardown.
  const geo::RttModel rtt_;
  std::unique_ptr<planner::PlanService> plans_;
};

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_WIRING_PLANNER_WIRING_H_
