// Compute and traffic: the compute provider that runs instances (by --compute_provider), the
// reaper of instances the database no longer knows, and the traffic provider that steers clients
// (by --traffic_provider, none when empty) with the switcher that records every switch.
#ifndef SHADOWPLANE_SERVER_WIRING_COMPUTE_WIRING_H_
#define SHADOWPLANE_SERVER_WIRING_COMPUTE_WIRING_H_

#include <memory>

#include "absl/status/statusor.h"
#include "providers/compute_provider.h"
#include "providers/traffic_provider.h"
#include "reconcile/orphan_instance_reaper.h"
#include "server/server_options.h"
#include "server/wiring/storage_wiring.h"
#include "server/wiring/wiring_context.h"
#include "traffic/traffic_switcher.h"

namespace shadowplane::server {

class ComputeWiring {
 public:
  // INVALID_ARGUMENT naming the flag for an unknown provider or a provider's bad setting.
  static absl::StatusOr<std::unique_ptr<ComputeWiring>> Build(const ComputeSettings& compute,
                                                              const TrafficSettings& traffic,
                                                              StorageWiring* storage,
                                                              const WiringContext& context);

  providers::ComputeProvider* compute() { return compute_.get(); }
  reconcile::OrphanInstanceReaper* orphan_reaper() { return orphan_reaper_.get(); }
  // Null when no traffic provider is configured.
  providers::TrafficProvider* traffic() { return traffic_.get(); }
  traffic::TrafficSwitcher* switcher() { return switcher_.get(); }

 private:
  ComputeWiring() = default;
  absl::Status BuildTraffic(const TrafficSettings& settings, StorageWiring* storage,
                            const WiringContext& context);

  std::unique_ptr<providers::ComputeProvider> compute_;
  std::unique_ptr<reconcile::OrphanInstanceReaper> orphan_reaper_;
  std::unique_ptr<providers::TrafficProvider> traffic_;
  std::unique_ptr<traffic::TrafficSwitcher> switcher_;
};

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_WIRING_COMPUTE_WIRING_H_
