// Reservations and shadow sync: the reservation manager (placement, shadows, traffic names), the
// shadow syncer, and the background loops that keep both true: the sync scheduler and the
// reconcile pass (reservations against their instances, orphan instances stopped), which one
// replica at a time runs under an advisory lock.
#ifndef SHADOWPLANE_SERVER_WIRING_RESERVATION_WIRING_H_
#define SHADOWPLANE_SERVER_WIRING_RESERVATION_WIRING_H_

#include <memory>
#include <string>

#include "reservation/reservation_manager.h"
#include "server/periodic_task.h"
#include "server/server_options.h"
#include "server/wiring/compute_wiring.h"
#include "server/wiring/storage_wiring.h"
#include "server/wiring/wiring_context.h"
#include "shadow/shadow_syncer.h"
#include "shadow/sync_scheduler.h"

namespace shadowplane::server {

class ReservationWiring {
 public:
  ReservationWiring(const ServerOptions& options, StorageWiring* storage, ComputeWiring* compute,
                    const WiringContext& context);
  ~ReservationWiring();

  // Starts the sync scheduler and the reconcile loop; `replica` names this process in leases.
  void StartLoops(const std::string& replica);

  reservation::ReservationManager* manager() { return manager_.get(); }
  fencing::WriteAuthority* writes() { return writes_.get(); }
  shadow::ShadowSyncer* syncer() { return syncer_.get(); }

 private:
  const SyncSettings sync_;
  const absl::Duration reconcile_interval_;
  StorageWiring* const storage_;
  ComputeWiring* const compute_;
  const WiringContext context_;
  // In dependency order: destruction is the teardown.
  std::unique_ptr<fencing::WriteAuthority> writes_;
  std::unique_ptr<reservation::ReservationManager> manager_;
  std::unique_ptr<shadow::ShadowSyncer> syncer_;
  std::unique_ptr<shadow::SyncScheduler> scheduler_;
  std::unique_ptr<PeriodicTask> sync_loop_;
  std::unique_ptr<PeriodicTask> reconcile_loop_;
};

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_WIRING_RESERVATION_WIRING_H_
