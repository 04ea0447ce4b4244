// Migrations: the freeze model, the migrator (its steps), the driver that claims migrations and
// runs their steps under leases, and the manager behind MigrationService. Destroying it lets
// running steps finish and gives the leases up, so that another server resumes at once.
#ifndef SHADOWPLANE_SERVER_WIRING_MIGRATION_WIRING_H_
#define SHADOWPLANE_SERVER_WIRING_MIGRATION_WIRING_H_

#include <memory>
#include <string>

#include "migration/freeze_model_keeper.h"
#include "migration/migration_driver.h"
#include "migration/migration_manager.h"
#include "migration/migrator.h"
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

  void StartDriver() { driver_->Start(); }
  migration::MigrationManager* manager() { return manager_.get(); }
  migration::FreezeModelKeeper* freeze_model() { return freeze_model_.get(); }

 private:
  // In dependency order: destruction is the teardown.
  std::unique_ptr<migration::FreezeModelKeeper> freeze_model_;
  std::unique_ptr<migration::Migrator> migrator_;
  std::unique_ptr<migration::MigrationDriver> driver_;
  std::unique_ptr<migration::MigrationManager> manager_;
};

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_WIRING_MIGRATION_WIRING_H_
