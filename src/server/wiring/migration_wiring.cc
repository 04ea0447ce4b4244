#include "server/wiring/migration_wiring.h"

#include "common/log.h"
#include "store/inventory_store.h"

namespace shadowplane::server {

namespace {
// Advisory lock of the failover pass ("SPFAILOV" in ASCII); all replicas must agree.
constexpr int64_t kFailoverLockKey = 0x53504641494C4F56;
// Advisory lock of the location health pass ("SPLOCHLT").
constexpr int64_t kLocationHealthLockKey = 0x53504C4F43484C54;
// Advisory lock of the spot fallback pass ("SPSPOTFB").
constexpr int64_t kSpotFallbackLockKey = 0x535053504F544642;
}  // namespace

MigrationWiring::MigrationWiring(const ServerOptions& options, StorageWiring* storage,
                                 ComputeWiring* compute, ReservationWiring* reservations,
                                 const WiringContext& context, const std::string& replica)
    : storage_(storage),
      context_(context),
      failover_check_interval_(options.compute.failover_check_interval) {
  freeze_model_ =
      std::make_unique<migration::FreezeModelKeeper>(storage->cutovers(), context.clock);
  const MigrationSettings& settings = options.migration;
  migration::MigratorOptions migrator;
  migrator.cutover_dirty_bytes = settings.cutover_dirty_bytes;
  migrator.max_precopy_rounds = settings.max_precopy_rounds;
  migrator.precopy_hold_interval = settings.precopy_hold_interval;
  migrator.time_scale = options.process.time_scale;
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
  disruptions_ = std::make_unique<migration::DisruptionCounter>(
      storage->disruptions(), compute->compute(), options.planning.affinity_session,
      context.registry);
  migrator_ = std::make_unique<migration::Migrator>(
      storage->migrations(), storage->reservations(), storage->locations(), storage->forecasts(),
      storage->telemetry(), compute->compute(), reservations->writes(), reservations->syncer(),
      compute->traffic(), compute->switcher(), freeze_model_.get(), disruptions_.get(),
      context.clock, migrator, context.registry);
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
      storage->migrations(), storage->reservations(), storage->locations(), storage->write_leases(),
      storage->disruptions(), context.clock, [d] { d->Wake(); });
  migration::PrimaryLossOptions loss;
  loss.loss_timeout = options.compute.primary_loss_timeout;
  loss.auto_failover = options.compute.auto_failover;
  loss_detector_ = std::make_unique<migration::PrimaryLossDetector>(
      storage->write_leases(), storage->reservations(), compute->compute(), manager_.get(), loss,
      context.registry);
  reconcile::LocationHealthOptions health;
  health.loss_timeout = options.compute.primary_loss_timeout;
  health.recovery = options.compute.location_recovery;
  location_health_ = std::make_unique<reconcile::LocationHealthMonitor>(
      storage->locations(), storage->inventory(), compute->compute(), health, context.registry);
  migration::DrainOptions drain;
  drain.max_in_flight = settings.max_migrations;
  drain.max_moves_per_hour = options.planning.max_planned_moves_per_hour;
  drain.cost.min_shadow_distance_km = options.placement.shadow_min_distance_km;
  drain.cost.nominal_requests_per_hour = options.placement.nominal_requests_per_hour;
  drain.cost.latency_price_per_request_ms = options.planning.latency_price_per_request_ms;
  drain.rtt = migrator.rtt;
  drainer_ = std::make_unique<migration::LocationDrainer>(
      storage->locations(), storage->reservations(), storage->decisions(), manager_.get(),
      context.clock, drain, context.registry);
  migration::SpotFallback::Sources spot;
  spot.spot = storage->spot();
  spot.reservations = storage->reservations();
  spot.locations = storage->locations();
  spot.prices = storage->prices();
  spot.migrations = storage->migrations();
  spot.decisions = storage->decisions();
  spot.manager = manager_.get();
  reservation::ReservationManager* placements = reservations->manager();
  spot.replace_shadow = [placements](const std::string& reservation_id) {
    return placements->ReplaceShadowNow(reservation_id, "spot_interrupted");
  };
  spot.clock = context.clock;
  spot.deadline_clock = &real_clock_;
  spot.metrics = context.registry;
  migration::SpotFallbackOptions spot_options;
  spot_options.default_warning = options.planning.spot_warning;
  if (const auto* scaled = dynamic_cast<const ScaledClock*>(context.clock)) {
    spot_options.clock_scale = scaled->scale();
  }
  spot_options.cost = drain.cost;
  spot_options.rtt = migrator.rtt;
  spot_fallback_ = std::make_unique<migration::SpotFallback>(spot, spot_options);
}

void MigrationWiring::StartDriver() {
  driver_->Start();
  failover_loop_ = std::make_unique<PeriodicTask>(failover_check_interval_, [this] {
    if (!context_.database_ready()) return;
    // One replica at a time: the lock's holder does the pass, the others skip it.
    auto ran = store::RunUnderAdvisoryLock(*storage_->pool(), kFailoverLockKey,
                                           [this] { return loss_detector_->RunOnce().status(); });
    if (!ran.ok()) LOG_EVENT(kWarning, "failover pass failed").Field("error", ran.status());
  });
  // Against deadlines of minutes: every second, on one replica.
  spot_loop_ = std::make_unique<PeriodicTask>(absl::Seconds(1), [this] {
    if (!context_.database_ready()) return;
    auto ran = store::RunUnderAdvisoryLock(*storage_->pool(), kSpotFallbackLockKey,
                                           [this] { return spot_fallback_->ReconcileOnce(); });
    if (!ran.ok()) LOG_EVENT(kWarning, "spot fallback pass failed").Field("error", ran.status());
  });
  // Its own loop: an agent that does not answer costs a pass up to --agent_call_timeout, which
  // must not slow the failover pass down.
  location_health_loop_ = std::make_unique<PeriodicTask>(failover_check_interval_, [this] {
    if (!context_.database_ready()) return;
    auto ran = store::RunUnderAdvisoryLock(*storage_->pool(), kLocationHealthLockKey, [this] {
      absl::Status health = location_health_->RunOnce().status();
      absl::Status drains = drainer_->RunOnce();
      return health.ok() ? drains : health;
    });
    if (!ran.ok()) {
      LOG_EVENT(kWarning, "location health and drain pass failed").Field("error", ran.status());
    }
  });
}

}  // namespace shadowplane::server
