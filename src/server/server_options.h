// The control plane's settings, one struct per area. Each field is one setting: its name is the
// flag's name, its initialiser the one default (the flag takes it from here, see
// server/server_flags.h), and its check sits in the area's Validate(). Adding a setting means a
// field here and one line in server/server_flags.cc.
//
// Components keep options structs of their own (for their tests and other users); the server's
// wiring units (server/wiring/*_wiring.h) fill every field of them that a setting covers. Where a
// component has the setting, its options struct holds the one default and the field here reads
// it from there, so the two cannot drift.
#ifndef SHADOWPLANE_SERVER_SERVER_OPTIONS_H_
#define SHADOWPLANE_SERVER_SERVER_OPTIONS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/transport_security.h"
#include "forecast/forecast_refresher.h"
#include "forecast/forecaster.h"
#include "forecast/predictor.h"
#include "ingest/affinity_tracker.h"
#include "ingest/event_validator.h"
#include "ingest/ingest_pipeline.h"
#include "ingest/ingest_writer.h"
#include "ingest/retention_keeper.h"
#include "migration/migration_driver.h"
#include "migration/migrator.h"
#include "planner/move_timer.h"
#include "planner/plan_service.h"
#include "planner/planner_loop.h"
#include "planner/planner_settings.h"
#include "server/database_supervisor.h"
#include "shadow/shadow_syncer.h"
#include "shadow/sync_scheduler.h"
#include "store/connection_pool.h"

namespace shadowplane::server {

// The process: where it listens, its clock, how it stops.
struct ProcessSettings {
  std::string listen = "127.0.0.1:50051";
  std::string metrics_listen = "127.0.0.1:9464";
  // Callers' bearer tokens and certificate names (api/access/token_store.h). Required with TLS;
  // without TLS (insecure), empty means no caller is authenticated and every call is allowed
  // (logged as a warning at start).
  std::string tokens_file;
  bool reflection = true;  // gRPC server reflection (for grpcurl)
  // TLS for the API and for the calls to agents (common/transport_security.h): required unless
  // `insecure`, which serves and calls plaintext and is refused on a non-loopback listen.
  TlsFiles tls;
  bool insecure = false;
  // How long audit trail rows are kept (api/access/audit_trail.h).
  absl::Duration audit_retention = absl::Hours(24 * 90);
  double time_scale = 1.0;
  std::string time_epoch;
  absl::Duration shutdown_grace = absl::Seconds(10);
  absl::Status Validate() const;
};

// The database: external (database_url) or the embedded cluster under data_dir.
struct StorageSettings {
  // May hold a password (masked by --print_config; refused on the command line or in a config
  // file others may read: common/config.h's CheckSecretPlacement).
  std::string database_url;
  // A file (not readable by others) holding the database password for database_url.
  std::string database_password_file;
  std::string data_dir;  // empty: EmbeddedPostgres::DefaultDataDir()
  std::string db_system_user = "shadowplane";
  std::string postgres_bin_dir = "/usr/lib/postgresql/15/bin";
  int db_pool_size = store::ConnectionPoolOptions().max_connections;
  absl::Duration db_check_interval = DatabaseSupervisorOptions().check_interval;
  // How telemetry rows travel in COPY: "binary" or "text" (store/access_log_store.h CopyFormat).
  std::string telemetry_copy_format = "binary";
  // How far behind the database a GetReservation answered from memory may be
  // (reservation/reservation_view.h); zero: every read goes to the database.
  absl::Duration reservation_view_staleness = absl::Seconds(1);
  std::string migrations_dir;  // empty: the migrations compiled into the binary
  absl::Status Validate() const;
};

// Where instances run and how the database's view of them is kept true.
struct ComputeSettings {
  std::string compute_provider = "local";
  absl::Duration agent_call_timeout = absl::Seconds(15);
  absl::Duration reconcile_interval = absl::Seconds(30);
  std::string locations_file;  // declarative regions and locations (catalog/catalog.h)
  // Fencing and failover (store/write_lease_repository.h, reconcile/primary_loss_detector.h).
  absl::Duration write_lease = absl::Seconds(10);
  absl::Duration primary_loss_timeout = absl::Seconds(30);
  absl::Duration failover_check_interval = absl::Seconds(2);
  bool auto_failover = true;
  // A lost location (reconcile/location_health_monitor.h) takes nothing new until it has been
  // healthy this long.
  absl::Duration location_recovery = absl::Minutes(5);
  absl::Status Validate() const;
};

// Which provider steers clients, and its settings by flag name (dns_*, haproxy_*; empty values
// are left out).
struct TrafficSettings {
  std::string traffic_provider;  // "rfc2136", "haproxy" or empty: none
  std::string traffic_service_name = "{name}";
  std::map<std::string, std::string> provider_settings;
  absl::Status Validate() const;
};

// Placement's cost and distance rules, shared by reservations and migrations.
struct PlacementSettings {
  double shadow_min_distance_km = 500;
  double nominal_requests_per_hour = planner::CostModel().nominal_requests_per_hour;
  double rtt_ms_per_100km = 1.0;
  absl::Status Validate() const;
};

// Shadow sync: the default interval (domain time), the scheduler's tick (real time), rounds at
// once, a round's longest run, the scheduler lease and the interval jitter.
struct SyncSettings {
  absl::Duration shadow_sync_interval = absl::Seconds(60);
  absl::Duration sync_tick = absl::Seconds(1);
  int sync_concurrency = shadow::SyncSchedulerOptions().concurrency;
  absl::Duration sync_round_timeout = shadow::ShadowSyncerOptions().round_timeout;
  absl::Duration sync_lease_ttl = shadow::SyncSchedulerOptions().lease_ttl;
  double sync_jitter = shadow::SyncSchedulerOptions().jitter;
  absl::Status Validate() const;
};

// Migrations (migration/migrator.h, migration/migration_driver.h).
struct MigrationSettings {
  int64_t cutover_dirty_bytes = migration::MigratorOptions().cutover_dirty_bytes;
  int max_precopy_rounds = migration::MigratorOptions().max_precopy_rounds;
  absl::Duration precopy_hold_interval = migration::MigratorOptions().precopy_hold_interval;
  absl::Duration freeze_hold =
      migration::MigratorOptions().freeze_hold;  // 0: from the freeze model
  absl::Duration observe_window = migration::MigratorOptions().observe_window;
  int max_migrations = migration::MigratorOptions().max_active;
  int max_migrations_per_location = migration::MigratorOptions().max_active_per_location;
  absl::Duration migration_step_deadline = migration::MigrationDriverOptions().step_deadline;
  absl::Duration migration_tick = migration::MigrationDriverOptions().tick;
  absl::Duration migration_lease_ttl = migration::MigrationDriverOptions().lease_ttl;
  absl::Status Validate() const;
};

// Telemetry ingest and upkeep: client origins, retention, deduplication, the ingest queue and
// its writers, and the loops that keep inputs fresh.
struct TelemetrySettings {
  std::string geoip_db;
  std::string geoip_field = "region";
  absl::Duration access_log_retention = ingest::ValidationOptions().raw_retention;
  absl::Duration demand_retention = ingest::ValidationOptions().demand_retention;
  absl::Duration batch_dedup_window = ingest::RetentionOptions().batch_dedup_window;
  int max_batch_events = ingest::PipelineOptions().max_batch_events;
  int ingest_queue_records = static_cast<int>(ingest::IngestWriterOptions().max_queued_records);
  int ingest_group_records = static_cast<int>(ingest::IngestWriterOptions().max_group_records);
  absl::Duration ingest_commit_deadline = ingest::IngestWriterOptions().commit_deadline;
  absl::Duration ingest_retry_after = ingest::IngestWriterOptions().retry_after;
  int ingest_threads = ingest::PipelineOptions().validate_threads;
  int ingest_writers = ingest::IngestWriterOptions().writers;
  int ingest_stream_in_flight = 16;
  absl::Duration retention_interval = absl::Minutes(10);
  absl::Duration affinity_flush_interval = absl::Seconds(5);
  absl::Duration affinity_resolution = ingest::AffinityOptions().resolution;
  absl::Duration telemetry_refresh_interval = absl::Seconds(30);
  // full | truncated | hashed (ingest/client_ip_storage.h); hashed reads its key from the file.
  std::string client_ip_storage = "full";
  std::string client_ip_hash_key_file;
  absl::Status Validate() const;
};

// Forecasting: the history fitted to, the longest horizon served, when a resource is due a
// refit, the refresher's pace and threads, one computation's deadline, stored forecasts' life,
// and joint sample paths per resource.
struct ForecastSettings {
  absl::Duration forecast_history = forecast::ForecasterOptions().history;
  int max_horizon_hours = forecast::PredictorOptions().max_horizon_hours;
  int forecast_refit_hours = forecast::RefresherOptions().refit_hours;
  absl::Duration forecast_interval = absl::Minutes(5);
  int forecast_threads = 1;
  absl::Duration forecast_deadline = forecast::PredictorOptions().compute_deadline;
  absl::Duration forecast_retention = forecast::RefresherOptions().retention;
  int sample_paths = forecast::ForecasterOptions().sample_paths;
  absl::Status Validate() const;
};

// The planner (planner/plan_service.h): the global defaults a reservation's settings start from,
// the prices of latency and of a delayed request, and how old a stored forecast may be.
struct PlanningSettings {
  std::string planner_mode = planner::PlannerModeName(planner::PlannerSettings().mode);
  double migration_threshold = planner::PlannerSettings().migration_threshold;
  absl::Duration plan_horizon = planner::PlannerSettings().horizon;
  absl::Duration min_dwell = planner::AntiFlapping().min_dwell;
  int max_moves_per_day = planner::AntiFlapping().max_moves_per_day;
  double hysteresis_relative = planner::AntiFlapping().hysteresis_relative;
  double hysteresis_absolute = planner::AntiFlapping().hysteresis_absolute;
  absl::Duration return_cooldown = planner::AntiFlapping().return_cooldown;
  double return_saving_multiple = planner::AntiFlapping().return_saving_multiple;
  double latency_price_per_request_ms = planner::PlanPrices().latency_price_per_request_ms;
  double delayed_request_price = planner::PlanPrices().delayed_request_price;
  // Forecasts are refit every --forecast_refit_hours (6): fresh for that and the refresher's pass.
  absl::Duration plan_max_forecast_age = absl::Hours(8);
  absl::Duration plan_interval = planner::PlannerLoopOptions().interval;
  absl::Duration decision_retention = planner::PlannerLoopOptions().decision_retention;
  int max_planned_moves_per_hour = planner::PlanServiceOptions().max_planned_moves_per_hour;
  int planner_threads = 2;
  // How long a planner-started migration is observed; zero: the planning horizon.
  absl::Duration planner_observe_window = absl::ZeroDuration();
  // Spot (planner/spot_prices.h, migration/spot_fallback.h).
  double spot_min_discount = planner::PlanServiceOptions().spot_min_discount;
  absl::Duration spot_return_after = planner::PlanServiceOptions().spot_return_after;
  absl::Duration spot_warning = absl::Minutes(2);
  // Client affinity and cutover timing (planner/move_timer.h, migration/disruption_count.h).
  absl::Duration affinity_session = planner::MoveTimerOptions().affinity_session;
  double disrupted_session_price = planner::PlanPrices().disrupted_session_price;
  double default_sync_bandwidth_mib = planner::PrecopyInputs().default_bandwidth / (1 << 20);
  double precopy_safety = planner::PrecopyInputs().safety;
  absl::Status Validate() const;
  // The planner's settings as given (Validate first).
  planner::PlannerSettings Defaults() const;
  planner::PlanPrices Prices() const;
};

struct ServerOptions {
  ProcessSettings process;
  StorageSettings storage;
  ComputeSettings compute;
  TrafficSettings traffic;
  PlacementSettings placement;
  SyncSettings sync;
  MigrationSettings migration;
  TelemetrySettings telemetry;
  ForecastSettings forecast;
  PlanningSettings planning;
  // Every area's checks, then those across areas. INVALID_ARGUMENT naming the flags.
  absl::Status Validate() const;
};

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_SERVER_OPTIONS_H_
