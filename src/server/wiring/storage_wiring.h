// Storage: the database (a private embedded cluster unless --database_url names one), its
// connection pool and supervisor, and every repository over it. Destroying it stops the
// supervisor, drops the repositories, closes the pool and stops the embedded cluster.
#ifndef SHADOWPLANE_SERVER_WIRING_STORAGE_WIRING_H_
#define SHADOWPLANE_SERVER_WIRING_STORAGE_WIRING_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/serving_status.h"
#include "server/database_supervisor.h"
#include "server/server_options.h"
#include "store/access_log_store.h"
#include "store/connection_pool.h"
#include "store/cutover_repository.h"
#include "store/decision_repository.h"
#include "store/disruption_repository.h"
#include "store/embedded_postgres.h"
#include "store/event_repository.h"
#include "store/forecast_repository.h"
#include "store/inventory_store.h"
#include "store/lease_store.h"
#include "store/location_repository.h"
#include "store/migration_repository.h"
#include "store/migration_runner.h"
#include "store/price_repository.h"
#include "store/reservation_repository.h"
#include "store/spot_repository.h"
#include "store/sync_run_repository.h"
#include "store/telemetry_purge_repository.h"
#include "store/telemetry_repository.h"
#include "store/traffic_switch_repository.h"
#include "store/write_lease_repository.h"

namespace shadowplane::server {

class StorageWiring {
 public:
  // Starts the embedded cluster when no URL is given. The supervisor is built, not started:
  // `on_ready` runs each time the database becomes ready, `on_fatal` when it never can.
  static absl::StatusOr<std::unique_ptr<StorageWiring>> Build(
      const StorageSettings& settings, std::vector<store::Migration> migrations,
      ServingStatus* serving, prometheus::Registry* registry,
      std::function<absl::Status()> on_ready, std::function<void(const absl::Status&)> on_fatal);

  void StartSupervisor() { supervisor_->Start(); }
  // Idempotent; the rest stays usable (readiness keeps its last value).
  void StopSupervisor() { supervisor_->Stop(); }
  bool ready() const { return supervisor_->ready(); }
  int64_t schema_version() const { return supervisor_->schema_version(); }
  bool embedded() const { return embedded_ != nullptr; }

  store::ConnectionPool* pool() { return pool_.get(); }
  store::LocationRepository* locations() { return locations_.get(); }
  store::ReservationRepository* reservations() { return reservations_.get(); }
  store::InventoryStore* inventory() { return inventory_.get(); }
  store::TelemetryRepository* telemetry() { return telemetry_.get(); }
  store::AccessLogStore* access_log() { return access_log_.get(); }
  store::LeaseStore* leases() { return leases_.get(); }
  store::WriteLeaseRepository* write_leases() { return write_leases_.get(); }
  store::SyncRunRepository* sync_runs() { return sync_runs_.get(); }
  store::ForecastRepository* forecasts() { return forecasts_.get(); }
  store::EventRepository* events() { return events_.get(); }
  store::MigrationRepository* migrations() { return migrations_.get(); }
  store::CutoverRepository* cutovers() { return cutovers_.get(); }
  store::TrafficSwitchRepository* traffic_switches() { return traffic_switches_.get(); }
  store::DecisionRepository* decisions() { return decisions_.get(); }
  store::PriceRepository* prices() { return prices_.get(); }
  store::SpotRepository* spot() { return spot_.get(); }
  store::DisruptionRepository* disruptions() { return disruptions_.get(); }
  store::TelemetryPurgeRepository* telemetry_purges() { return telemetry_purges_.get(); }

 private:
  StorageWiring() = default;

  // In dependency order: destruction is the teardown.
  std::unique_ptr<store::EmbeddedPostgres> embedded_;
  std::unique_ptr<store::ConnectionPool> pool_;
  std::unique_ptr<store::LocationRepository> locations_;
  std::unique_ptr<store::ReservationRepository> reservations_;
  std::unique_ptr<store::InventoryStore> inventory_;
  std::unique_ptr<store::TelemetryRepository> telemetry_;
  std::unique_ptr<store::AccessLogStore> access_log_;
  std::unique_ptr<store::LeaseStore> leases_;
  std::unique_ptr<store::WriteLeaseRepository> write_leases_;
  std::unique_ptr<store::SyncRunRepository> sync_runs_;
  std::unique_ptr<store::ForecastRepository> forecasts_;
  std::unique_ptr<store::EventRepository> events_;
  std::unique_ptr<store::MigrationRepository> migrations_;
  std::unique_ptr<store::CutoverRepository> cutovers_;
  std::unique_ptr<store::TrafficSwitchRepository> traffic_switches_;
  std::unique_ptr<store::DecisionRepository> decisions_;
  std::unique_ptr<store::PriceRepository> prices_;
  std::unique_ptr<store::SpotRepository> spot_;
  std::unique_ptr<store::DisruptionRepository> disruptions_;
  std::unique_ptr<store::TelemetryPurgeRepository> telemetry_purges_;
  std::unique_ptr<DatabaseSupervisor> supervisor_;
};

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_WIRING_STORAGE_WIRING_H_
