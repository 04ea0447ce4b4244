#include "server/wiring/reservation_wiring.h"

#include "common/log.h"
#include "store/inventory_store.h"

namespace shadowplane::server {

namespace {
// Advisory lock of the reconcile pass ("SPRECONC" in ASCII); all replicas must agree.
constexpr int64_t kReconcileLockKey = 0x53505245434F4E43;
}  // namespace

ReservationWiring::ReservationWiring(const ServerOptions& options, StorageWiring* storage,
                                     ComputeWiring* compute, const WiringContext& context)
    : sync_(options.sync),
      reconcile_interval_(options.compute.reconcile_interval),
      storage_(storage),
      compute_(compute),
      context_(context) {
  reservation::ReservationOptions reservation;
  reservation.cost.min_shadow_distance_km = options.placement.shadow_min_distance_km;
  reservation.cost.nominal_requests_per_hour = options.placement.nominal_requests_per_hour;
  reservation.cost.latency_price_per_request_ms = options.planning.latency_price_per_request_ms;
  reservation.cost.spot_min_discount = options.planning.spot_min_discount;
  reservation.cost.spot_return_after = options.planning.spot_return_after;
  reservation.rtt = PlacementRtt(options.placement, context);
  reservation.default_shadow_sync_interval_seconds =
      absl::ToDoubleSeconds(options.sync.shadow_sync_interval);
  reservation.service_name_template = options.traffic.traffic_service_name;
  if (context.tokens != nullptr) {
    reservation.team_quota = [tokens = context.tokens](const std::string& team) {
      return tokens->QuotaOf(team);
    };
  }
  writes_ = std::make_unique<fencing::WriteAuthority>(storage->write_leases(), compute->compute(),
                                                      context.clock, options.compute.write_lease);
  manager_ = std::make_unique<reservation::ReservationManager>(
      storage->reservations(), storage->locations(), compute->compute(), writes_.get(),
      context.clock, reservation, context.registry, compute->traffic());
  shadow::ShadowSyncerOptions syncer;
  syncer.round_timeout = options.sync.sync_round_timeout;
  syncer.security = context.transport;
  syncer_ = std::make_unique<shadow::ShadowSyncer>(storage->reservations(), storage->inventory(),
                                                   storage->sync_runs(), context.clock, syncer,
                                                   context.registry);
}

ReservationWiring::~ReservationWiring() {
  // The loops first (a pass in progress finishes), then the scheduler waits for its rounds.
  reconcile_loop_.reset();
  sync_loop_.reset();
  scheduler_.reset();
}

void ReservationWiring::StartLoops(const std::string& replica) {
  shadow::SyncSchedulerOptions scheduler;
  scheduler.owner = replica;
  scheduler.lease_ttl = sync_.sync_lease_ttl;
  scheduler.jitter = sync_.sync_jitter;
  scheduler.concurrency = sync_.sync_concurrency;
  scheduler_ = std::make_unique<shadow::SyncScheduler>(syncer_.get(), storage_->sync_runs(),
                                                       storage_->leases(), context_.clock,
                                                       scheduler, context_.registry);
  sync_loop_ = std::make_unique<PeriodicTask>(sync_.sync_tick, [this] {
    if (!context_.database_ready()) return;
    absl::StatusOr<int> started = scheduler_->Tick();
    if (!started.ok()) {
      LOG_EVENT(kWarning, "sync scheduler pass failed").Field("error", started.status());
    }
  });
  reconcile_loop_ = std::make_unique<PeriodicTask>(reconcile_interval_, [this] {
    if (!context_.database_ready()) return;
    // One replica at a time: the lock's holder does the pass, the others skip it.
    auto ran = store::RunUnderAdvisoryLock(*storage_->pool(), kReconcileLockKey, [this] {
      if (absl::Status s = manager_->ReconcileOnce(); !s.ok()) {
        LOG_EVENT(kWarning, "reservation reconcile pass failed").Field("error", s);
      }
      return compute_->orphan_reaper()->RunOnce().status();
    });
    if (!ran.ok()) LOG_EVENT(kWarning, "reconcile pass failed").Field("error", ran.status());
  });
}

}  // namespace shadowplane::server
