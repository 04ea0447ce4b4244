#include "server/wiring/storage_wiring.h"

#include "common/secret_file.h"
#include "common/status_macros.h"
#include "ingest/hyperloglog.h"

namespace shadowplane::server {

absl::StatusOr<std::unique_ptr<StorageWiring>> StorageWiring::Build(
    const StorageSettings& settings, std::vector<store::Migration> migrations,
    ServingStatus* serving, prometheus::Registry* registry, std::function<absl::Status()> on_ready,
    std::function<void(const absl::Status&)> on_fatal) {
  std::unique_ptr<StorageWiring> w(new StorageWiring());
  std::string url = settings.database_url;
  if (url.empty()) {
    store::EmbeddedPostgresOptions pg;
    pg.data_dir = settings.data_dir;
    pg.system_user = settings.db_system_user;
    pg.bin_dir = settings.postgres_bin_dir;
    ASSIGN_OR_RETURN(w->embedded_, store::EmbeddedPostgres::Start(pg));
    url = w->embedded_->url();
  }
  store::ConnectionPoolOptions pool;
  pool.url = url;
  pool.max_connections = settings.db_pool_size;
  if (!settings.database_password_file.empty()) {
    ASSIGN_OR_RETURN(pool.password,
                     ReadSecretFile(settings.database_password_file, "--database_password_file"));
  }
  w->pool_ = std::make_unique<store::ConnectionPool>(pool, registry);
  store::ConnectionPool* p = w->pool_.get();
  w->locations_ = std::make_unique<store::LocationRepository>(p);
  w->reservations_ = std::make_unique<store::ReservationRepository>(p);
  w->inventory_ = std::make_unique<store::InventoryStore>(p);
  w->telemetry_ = std::make_unique<store::TelemetryRepository>(p);
  store::CommitOptions commit;
  commit.merge_sketches = ingest::MergeSerialized;
  commit.copy_format = settings.telemetry_copy_format == "text" ? store::CopyFormat::kText
                                                                : store::CopyFormat::kBinary;
  w->access_log_ = std::make_unique<store::AccessLogStore>(p, commit);
  w->leases_ = std::make_unique<store::LeaseStore>(p);
  w->write_leases_ = std::make_unique<store::WriteLeaseRepository>(p);
  w->sync_runs_ = std::make_unique<store::SyncRunRepository>(p);
  w->forecasts_ = std::make_unique<store::ForecastRepository>(p);
  w->events_ = std::make_unique<store::EventRepository>(p);
  w->migrations_ = std::make_unique<store::MigrationRepository>(p);
  w->decisions_ = std::make_unique<store::DecisionRepository>(p);
  w->prices_ = std::make_unique<store::PriceRepository>(p);
  w->spot_ = std::make_unique<store::SpotRepository>(p);
  w->disruptions_ = std::make_unique<store::DisruptionRepository>(p);
  w->telemetry_purges_ = std::make_unique<store::TelemetryPurgeRepository>(p);
  w->cutovers_ = std::make_unique<store::CutoverRepository>(p);
  w->traffic_switches_ = std::make_unique<store::TrafficSwitchRepository>(p);
  DatabaseSupervisorOptions supervision;
  supervision.migrations = std::move(migrations);
  supervision.check_interval = settings.db_check_interval;
  supervision.on_ready = std::move(on_ready);
  w->supervisor_ =
      std::make_unique<DatabaseSupervisor>(p, supervision, serving, registry, std::move(on_fatal));
  return w;
}

}  // namespace shadowplane::server
