#include "server/wiring/migration_wiring.h"

namespace shadowplane::server {

MigrationWiring::MigrationWiring(const ServerOptions& options, StorageWiring* storage,
                                 ComputeWiring* compute, ReservationWiring* reservations,
                                 const WiringContext& context, const std::string& replica) {
  freeze_model_ =
      std::make_unique<migration::FreezeModelKeeper>(storage->cutovers(), context.clock);
  const MigrationSettings& settings = options.migration;
  migration::MigratorOptions migrator;
  migrator.cutover_dirty_bytes = settings.cutover_dirty_bytes;
  migrator.max_precopy_rounds = settings.max_precopy_rounds;
  migrator.freeze_hold = settings.freeze_hold;
  migrator.observe_window = settings.observe_window;
  migrator.planned_observe_window = options.planning.planner_observe_window > absl::ZeroDuration()
                                        ? options.planning.planner_observe_window
                                        : options.planning.plan_horizon;
  migrator.prices = options.planning.Prices();
  migrator.max_active = settings.max_migrations;
  migrator.max_active_per_location = settings.max_migrations_per_location;
  migrator.min_shadow_distance_km = options.placement.shadow_min_distance_km;
  migrator.rtt = PlacementRtt(options.placement, context);
  migrator_ = std::make_unique<migration::Migrator>(
      storage->migrations(), storage->reservations(), storage->locations(), storage->forecasts(),
      storage->telemetry(), compute->compute(), reservations->syncer(), compute->traffic(),
      compute->switcher(), freeze_model_.get(), context.clock, migrator, context.registry);
  migration::MigrationDriverOptions driver;
  driver.owner = replica;
  driver.tick = settings.migration_tick;
  driver.lease_ttl = settings.migration_lease_ttl;
  driver.step_deadline = settings.migration_step_deadline;
  driver.ready = context.database_ready;
  driver_ = std::make_unique<migration::MigrationDriver>(storage->migrations(), migrator_.get(),
                                                         driver, context.registry);
  migration::MigrationDriver* d = driver_.get();
  manager_ = std::make_unique<migration::MigrationManager>(
      storage->migrations(), storage->reservations(), storage->locations(), context.clock,
      [d] { d->Wake(); });
}

}  // namespace shadowplane::server
