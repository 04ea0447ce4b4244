// The public gRPC API: health (NOT_SERVING until the database is ready), server info, and the
// services over the other areas, with the worker pools their blocking handlers run on.
// Destroying it says NOT_SERVING first (balancers drain), then stops the server gracefully.
#ifndef SHADOWPLANE_SERVER_WIRING_API_WIRING_H_
#define SHADOWPLANE_SERVER_WIRING_API_WIRING_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "api/access/access_interceptor.h"
#include "api/access/audit_trail.h"
#include "api/audit_service.h"
#include "api/event_service.h"
#include "api/forecast_service.h"
#include "api/health_service.h"
#include "api/location_service.h"
#include "api/migration_service.h"
#include "api/planner_service.h"
#include "api/reservation_service.h"
#include "api/server_info_service.h"
#include "api/sync_service.h"
#include "api/telemetry_service.h"
#include "api/write_lease_service.h"
#include "catalog/location_cache.h"
#include "common/serving_status.h"
#include "common/worker_pool.h"
#include "reservation/reservation_view.h"
#include "server/server_options.h"
#include "server/wiring/forecast_wiring.h"
#include "server/wiring/migration_wiring.h"
#include "server/wiring/planner_wiring.h"
#include "server/wiring/reservation_wiring.h"
#include "server/wiring/storage_wiring.h"
#include "server/wiring/telemetry_wiring.h"
#include "server/wiring/wiring_context.h"
#include "store/notification_feed.h"

namespace shadowplane::server {

// The gRPC services' names, for the serving status (the empty name is the whole server).
inline constexpr const char* kServedServices[] = {"",
                                                  "grpc.health.v1.Health",
                                                  "shadowplane.v1.ServerService",
                                                  "shadowplane.v1.LocationService",
                                                  "shadowplane.v1.ReservationService",
                                                  "shadowplane.v1.SyncService",
                                                  "shadowplane.v1.TelemetryService",
                                                  "shadowplane.v1.ForecastService",
                                                  "shadowplane.v1.EventService",
                                                  "shadowplane.v1.MigrationService",
                                                  "shadowplane.v1.PlannerService",
                                                  "shadowplane.agent.v1.WriteLeaseService"};

struct ApiParts {
  StorageWiring* storage = nullptr;
  TelemetryWiring* telemetry = nullptr;
  ForecastWiring* forecasting = nullptr;
  ReservationWiring* reservations = nullptr;
  MigrationWiring* migrations = nullptr;
  PlannerWiring* planning = nullptr;
  ServingStatus* serving = nullptr;
  std::function<shadowplane::v1::GetServerInfoResponse()> facts;
};

class ApiWiring {
 public:
  // Starts serving on --listen. FAILED_PRECONDITION naming the flag when it cannot listen.
  static absl::StatusOr<std::unique_ptr<ApiWiring>> Start(const ServerOptions& options,
                                                          const ApiParts& parts,
                                                          const WiringContext& context);
  ~ApiWiring();

  int port() const { return port_; }

 private:
  explicit ApiWiring(absl::Duration shutdown_grace) : shutdown_grace_(shutdown_grace) {}

  const absl::Duration shutdown_grace_;
  int port_ = 0;
  // In dependency order: destruction is the teardown (after the explicit stop).
  std::unique_ptr<WorkerPool> rpc_workers_;
  std::unique_ptr<WorkerPool> sync_rpc_workers_;
  std::unique_ptr<catalog::LocationCache> location_cache_;
  std::unique_ptr<api::HealthService> health_;
  std::unique_ptr<api::ServerInfoService> server_info_;
  std::unique_ptr<api::LocationService> location_service_;
  std::unique_ptr<api::access::Ownership> ownership_;  // before the services that use it
  // GetReservation's read model and the feed that keeps it fresh (stopped first).
  std::unique_ptr<reservation::ReservationView> reservation_view_;
  std::unique_ptr<store::NotificationFeed> reservation_changes_;
  std::unique_ptr<api::ReservationService> reservation_service_;
  std::unique_ptr<api::SyncService> sync_service_;
  std::unique_ptr<api::TelemetryService> telemetry_service_;
  std::unique_ptr<api::ForecastService> forecast_service_;
  std::unique_ptr<api::EventService> event_service_;
  std::unique_ptr<api::MigrationService> migration_service_;
  std::unique_ptr<api::PlannerService> planner_service_;
  std::unique_ptr<api::WriteLeaseService> write_lease_service_;
  std::unique_ptr<api::AuditService> audit_service_;
  std::unique_ptr<store::AuditRepository> audit_repository_;
  std::unique_ptr<api::access::AuditTrail> audit_;      // outlives server_
  std::unique_ptr<api::access::AccessControl> access_;  // outlives server_
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_WIRING_API_WIRING_H_
