// Migrations: the freeze model, the migrator (its steps), the driver that claims migrations and
// runs their steps under leases, and the manager behind MigrationService. Destroying it lets
// running steps finish and gives the leases up, so that another server resumes at once.
#ifndef SHADOWPLANE_SERVER_WIRING_MIGRATION_WIRING_H_
#define SHADOWPLANE_SERVER_WIRING_MIGRATION_WIRING_H_

#include <memory>
#include <string>

#include "migration/freeze_model_keeper.h"
#include "migration/location_drainer.h"
#include "migration/migration_driver.h"
#include "migration/migration_manager.h"
#include "migration/migrator.h"
#include "migration/primary_loss_detector.h"
#include "migration/spot_fallback.h"
#include "reconcile/location_health_monitor.h"
#include "server/periodic_task.h"
#include "server/server_options.h"
#include "server/wiring/compute_wiring.h"
#include "server/wiring/reservation_wiring.h"
#include "server/wiring/storage_wiring.h"
#include "server/wiring/wiring_context.h"

namespace shadowplane::server {

class MigrationWiring {
 public:
  // `replica` names this process in the migrations' leases.
  MigrationWiring(const ServerOptions& options, StorageWiring* storage, ComputeWiring* compute,
                  ReservationWiring* reservations, const WiringContext& context,
                  const std::string& replica);

  // The driver, the failover loop (migration/primary_loss_detector.h) and the location health
  // and drain loop (reconcile/location_health_monitor.h, migration/location_drainer.h), each under
  // its lock.
  void StartDriver();
  migration::MigrationManager* manager() { return manager_.get(); }
  migration::FreezeModelKeeper* freeze_model() { return freeze_model_.get(); }
  migration::LocationDrainer* drainer() { return drainer_.get(); }
  migration::SpotFallback* spot_fallback() { return spot_fallback_.get(); }

 private:
  // In dependency order: destruction is the teardown (the loop, declared last, goes first).
  std::unique_ptr<migration::FreezeModelKeeper> freeze_model_;
  std::unique_ptr<migration::DisruptionCounter> disruptions_;
  std::unique_ptr<migration::Migrator> migrator_;
  std::unique_ptr<migration::MigrationDriver> driver_;
  std::unique_ptr<migration::MigrationManager> manager_;
  std::unique_ptr<migration::PrimaryLossDetector> loss_detector_;
  std::unique_ptr<reconcile::LocationHealthMonitor> location_health_;
  std::unique_ptr<migration::LocationDrainer> drainer_;
  std::unique_ptr<migration::SpotFallback> spot_fallback_;
  StorageWiring* storage_ = nullptr;
  WiringContext context_;
  absl::Duration failover_check_interval_;
  RealClock real_clock_;  // the providers' deadlines are real time
  std::unique_ptr<PeriodicTask> location_health_loop_;
  std::unique_ptr<PeriodicTask> spot_loop_;
  std::unique_ptr<PeriodicTask> failover_loop_;  // first to go
};

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_WIRING_MIGRATION_WIRING_H_
