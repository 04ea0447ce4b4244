#include "server/wiring/api_wiring.h"

#include "absl/time/clock.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "server/serving_endpoints.h"

namespace shadowplane::server {

absl::StatusOr<std::unique_ptr<ApiWiring>> ApiWiring::Start(const ServerOptions& options,
                                                            const ApiParts& parts,
                                                            const WiringContext& context) {
  std::unique_ptr<ApiWiring> w(new ApiWiring(options.process.shutdown_grace));
  StorageWiring* storage = parts.storage;
  // Handlers that block run here; as many as database connections, so none waits for one.
  w->rpc_workers_ = std::make_unique<WorkerPool>("rpc", options.storage.db_pool_size, 4096);
  // A SyncNow call waits for a whole round: such calls get threads of their own.
  w->sync_rpc_workers_ =
      std::make_unique<WorkerPool>("sync-rpc", options.sync.sync_concurrency, 64);
  w->location_cache_ =
      std::make_unique<catalog::LocationCache>(storage->locations(), absl::Seconds(1));
  w->health_ = std::make_unique<api::HealthService>(parts.serving);
  w->server_info_ = std::make_unique<api::ServerInfoService>(parts.facts);
  api::LocationService::Spot spot;
  spot.prices = storage->prices();
  if (context.catalog != nullptr && context.catalog->has_value()) {
    spot.mapping = (*context.catalog)->aws_spot_mapping;
  }
  spot.fallback = parts.migrations->spot_fallback();
  w->location_service_ = std::make_unique<api::LocationService>(
      storage->locations(), w->location_cache_.get(), context.clock, w->rpc_workers_.get(),
      parts.migrations->drainer(), std::move(spot));
  w->ownership_ = std::make_unique<api::access::Ownership>(storage->reservations());
  reservation::ReservationViewOptions view;
  view.staleness_bound = options.storage.reservation_view_staleness;
  w->reservation_view_ =
      std::make_unique<reservation::ReservationView>(view, RealClock::Get(), context.registry);
  if (w->reservation_view_->enabled()) {
    store::NotificationFeedOptions feed;
    feed.connection_string = store::PoolConnectionString(storage->pool()->options());
    feed.channel = reservation::kReservationChangesChannel;
    // Several heartbeats per bound, so that a healthy feed is never what makes reads bypass it.
    feed.heartbeat_interval = std::min(absl::Milliseconds(250), view.staleness_bound / 4);
    w->reservation_changes_ = std::make_unique<store::NotificationFeed>(
        feed, w->reservation_view_.get(), RealClock::Get(), context.registry);
    w->reservation_changes_->Start();
  }
  w->reservation_service_ = std::make_unique<api::ReservationService>(
      parts.reservations->manager(), w->rpc_workers_.get(), w->ownership_.get(),
      parts.telemetry->purger(), w->reservation_view_.get());
  w->sync_service_ = std::make_unique<api::SyncService>(
      parts.reservations->syncer(), storage->sync_runs(), w->sync_rpc_workers_.get(),
      w->ownership_.get(), w->reservation_view_.get());
  w->telemetry_service_ = std::make_unique<api::TelemetryService>(
      parts.telemetry->pipeline(), parts.telemetry->demand_reader(), w->rpc_workers_.get(),
      options.telemetry.ingest_stream_in_flight);
  w->forecast_service_ =
      std::make_unique<api::ForecastService>(parts.forecasting->predictor(), w->rpc_workers_.get());
  w->event_service_ = std::make_unique<api::EventService>(parts.forecasting->event_registry(),
                                                          w->rpc_workers_.get());
  w->migration_service_ = std::make_unique<api::MigrationService>(
      parts.migrations->manager(), w->rpc_workers_.get(), w->ownership_.get());
  w->planner_service_ = std::make_unique<api::PlannerService>(
      parts.planning->plans(), parts.planning->decisions(), context.clock, w->rpc_workers_.get(),
      w->ownership_.get());
  w->write_lease_service_ =
      std::make_unique<api::WriteLeaseService>(storage->write_leases(), options.compute.write_lease,
                                               w->rpc_workers_.get(), context.registry);
  if (context.tokens != nullptr) {
    LOG_EVENT(kInfo, "callers are authenticated")
        .Field("tokens_file", options.process.tokens_file)
        .Field("tokens", static_cast<int64_t>(context.tokens->size()));
  } else {
    LOG_EVENT(kWarning,
              "callers are not authenticated: every call is allowed (--insecure without "
              "--tokens_file)");
  }
  w->audit_repository_ = std::make_unique<store::AuditRepository>(storage->pool());
  api::access::AuditTrailOptions audit;
  audit.retention = options.process.audit_retention;
  w->audit_ = std::make_unique<api::access::AuditTrail>(w->audit_repository_.get(), audit,
                                                        context.registry);
  w->access_ = std::make_unique<api::access::AccessControl>(context.tokens, w->audit_.get(),
                                                            context.registry);
  w->audit_service_ =
      std::make_unique<api::AuditService>(w->audit_repository_.get(), w->rpc_workers_.get());
  GrpcServerSpec spec;
  spec.listen = options.process.listen;
  spec.services = {w->health_.get(),
                   w->server_info_.get(),
                   w->location_service_.get(),
                   w->reservation_service_.get(),
                   w->sync_service_.get(),
                   w->telemetry_service_.get(),
                   w->forecast_service_.get(),
                   w->event_service_.get(),
                   w->migration_service_.get(),
                   w->planner_service_.get(),
                   w->write_lease_service_.get(),
                   w->audit_service_.get()};
  // Callers may authenticate with a token instead of a certificate; agents present theirs.
  spec.credentials = context.transport->ServerCredentials(ClientCertificates::kOptional);
  spec.registry = context.registry;
  spec.access = w->access_.get();
  spec.reflection = options.process.reflection;
  ASSIGN_OR_RETURN(w->server_, StartGrpcServer(spec, &w->port_));
  return w;
}

ApiWiring::~ApiWiring() {
  const absl::Time start = absl::Now();
  if (health_ != nullptr) health_->Shutdown();  // NOT_SERVING first, so balancers drain
  if (server_ != nullptr) {
    StopGrpcServer(server_, rpc_workers_.get(), shutdown_grace_);
    LOG_EVENT(kInfo, "gRPC server stopped").Field("elapsed_seconds", absl::Now() - start);
  }
}

}  // namespace shadowplane::server
