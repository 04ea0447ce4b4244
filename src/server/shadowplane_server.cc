#include "server/shadowplane_server.h"

#include <grpcpp/grpcpp.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "api/event_service.h"
#include "api/forecast_service.h"
#include "api/health_service.h"
#include "api/location_service.h"
#include "api/migration_service.h"
#include "api/reservation_service.h"
#include "api/server_info_service.h"
#include "api/sync_service.h"
#include "api/telemetry_service.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/listen_address.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/serving_status.h"
#include "common/status_macros.h"
#include "common/worker_pool.h"
#include "forecast/event_measurer.h"
#include "forecast/event_registry.h"
#include "forecast/forecast_refresher.h"
#include "forecast/forecaster.h"
#include "forecast/predictor.h"
#include "geo/geoip_database.h"
#include "ingest/affinity_tracker.h"
#include "ingest/demand_reader.h"
#include "ingest/event_validator.h"
#include "ingest/hyperloglog.h"
#include "ingest/ingest_pipeline.h"
#include "ingest/ingest_writer.h"
#include "ingest/origin_lookup.h"
#include "ingest/resource_directory.h"
#include "ingest/retention_keeper.h"
#include "migration/migration_driver.h"
#include "migration/migration_manager.h"
#include "migration/migrator.h"
#include "reconcile/orphan_instance_reaper.h"
#include "reservation/reservation_manager.h"
#include "server/builtin_providers.h"
#include "server/database_supervisor.h"
#include "server/periodic_task.h"
#include "server/serving_endpoints.h"
#include "shadow/shadow_syncer.h"
#include "shadow/sync_scheduler.h"
#include "store/access_log_store.h"
#include "store/connection_pool.h"
#include "store/cutover_repository.h"
#include "store/embedded_migrations.h"
#include "store/embedded_postgres.h"
#include "store/event_repository.h"
#include "store/inventory_store.h"
#include "store/lease_store.h"
#include "store/location_repository.h"
#include "store/migration_repository.h"
#include "store/migration_runner.h"
#include "store/reservation_repository.h"
#include "store/sync_run_repository.h"
#include "store/telemetry_repository.h"
#include "store/traffic_switch_repository.h"
#include "traffic/traffic_switcher.h"

#ifndef SHADOWPLANE_VERSION
#define SHADOWPLANE_VERSION "unknown"
#endif
#ifndef SHADOWPLANE_GIT_COMMIT
#define SHADOWPLANE_GIT_COMMIT "unknown"
#endif

namespace shadowplane::server {

namespace {
// Advisory lock of the reconcile pass ("SPRECONC" in ASCII); all replicas must agree.
constexpr int64_t kReconcileLockKey = 0x53505245434F4E43;
// GetDemand: buckets per series at most (400 days of hours is 9,600).
constexpr int kMaxDemandPoints = 10'000;
}  // namespace

class ShadowplaneServer::Impl {
 public:
  explicit Impl(const ServerOptions& options) : options_(options) {}

  absl::Status Start() {
    RETURN_IF_ERROR(options_.Validate());
    ASSIGN_OR_RETURN(clock_,
                     MakeDomainClock(options_.process.time_scale, options_.process.time_epoch));
    std::vector<store::MigrationFile> files = store::EmbeddedMigrationFiles();
    if (!options_.storage.migrations_dir.empty()) {
      ASSIGN_OR_RETURN(files, store::ReadMigrationDir(options_.storage.migrations_dir));
    }
    ASSIGN_OR_RETURN(migrations_, store::ParseMigrations(files));
    if (!options_.compute.locations_file.empty()) {
      ASSIGN_OR_RETURN(catalog_, catalog::LoadCatalogFile(options_.compute.locations_file));
    }

    registry_ = std::make_shared<prometheus::Registry>();
    RETURN_IF_ERROR(StartMetrics());
    prometheus::BuildGauge()
        .Name("shadowplane_build_info")
        .Help("Always 1; labels say which build is running")
        .Register(*registry_)
        .Add({{"version", SHADOWPLANE_VERSION}, {"git_commit", SHADOWPLANE_GIT_COMMIT}})
        .Set(1);

    // Not serving until the database supervisor says so.
    for (const char* service : {"", "grpc.health.v1.Health", "shadowplane.v1.ServerService",
                                "shadowplane.v1.LocationService",
                                "shadowplane.v1.ReservationService", "shadowplane.v1.SyncService",
                                "shadowplane.v1.TelemetryService", "shadowplane.v1.ForecastService",
                                "shadowplane.v1.EventService", "shadowplane.v1.MigrationService"}) {
      serving_.Set(service, false);
    }
    // gRPC starts once everything its services use exists; a taken port is reported before the
    // (slower) embedded database starts.
    if (std::string why; !CanBind(options_.process.listen, &why)) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot listen for gRPC on --listen=", options_.process.listen, ": ", why));
    }

    if (options_.storage.database_url.empty()) {
      store::EmbeddedPostgresOptions pg;
      pg.data_dir = options_.storage.data_dir;
      pg.system_user = options_.storage.db_system_user;
      pg.bin_dir = options_.storage.postgres_bin_dir;
      ASSIGN_OR_RETURN(embedded_, store::EmbeddedPostgres::Start(pg));
      database_url_ = embedded_->url();
    } else {
      database_url_ = options_.storage.database_url;
    }
    store::ConnectionPoolOptions pool;
    pool.url = database_url_;
    pool.max_connections = options_.storage.db_pool_size;
    pool_ = std::make_unique<store::ConnectionPool>(pool, registry_.get());
    locations_ = std::make_unique<store::LocationRepository>(pool_.get());
    reservations_ = std::make_unique<store::ReservationRepository>(pool_.get());
    DatabaseSupervisorOptions supervision;
    supervision.migrations = migrations_;
    supervision.check_interval = options_.storage.db_check_interval;
    telemetry_ = std::make_unique<store::TelemetryRepository>(pool_.get());
    supervision.on_ready = [this]() -> absl::Status {
      if (!catalog_.has_value()) return RefreshTelemetryInputs();
      RETURN_IF_ERROR(
          catalog::ApplyCatalogFile(*catalog_, *locations_, *telemetry_, clock_->Now()));
      LOG_EVENT(kInfo, "locations file applied")
          .Field("file", options_.compute.locations_file)
          .Field("regions", catalog_->regions.size())
          .Field("locations", catalog_->locations.size())
          .Field("networks", catalog_->networks.size());
      return RefreshTelemetryInputs();
    };
    supervisor_ =
        std::make_unique<DatabaseSupervisor>(pool_.get(), supervision, &serving_, registry_.get(),
                                             [this](const absl::Status& status) { Stop(status); });
    RETURN_IF_ERROR(StartCompute());
    RETURN_IF_ERROR(StartTelemetry());
    StartForecasting();
    StartMigrations();
    RETURN_IF_ERROR(StartGrpc());
    supervisor_->Start();
    migration_driver_->Start();
    StartReconcileLoop();
    StartSyncScheduler();
    StartTelemetryLoops();
    StartForecastLoop();
    LOG_EVENT(kInfo, "shadowplane started")
        .Field("version", SHADOWPLANE_VERSION)
        .Field("grpc", absl::StrCat(HostOf(options_.process.listen), ":", grpc_port_))
        .Field("metrics", absl::StrCat("http://", HostOf(options_.process.metrics_listen), ":",
                                       metrics_port_, "/metrics"))
        .Field("database", embedded_ ? "embedded" : "external")
        .Field("time_scale", options_.process.time_scale);
    return absl::OkStatus();
  }

  void Stop(absl::Status reason) {
    absl::MutexLock lock(&mu_);
    if (stop_requested_) return;
    stop_requested_ = true;
    stop_reason_ = std::move(reason);
  }

  absl::Status Wait() {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(&stop_requested_));
    }
    LOG_EVENT(kInfo, "shutting down").Field("grace_seconds", options_.process.shutdown_grace);
    TearDown();
    absl::MutexLock lock(&mu_);
    return stop_reason_;
  }

  // Safe on a partly started server; idempotent.
  void TearDown() {
    const absl::Time start = absl::Now();
    if (health_ != nullptr) health_->Shutdown();  // NOT_SERVING first, so balancers drain
    if (grpc_server_ != nullptr) {
      StopGrpcServer(grpc_server_, rpc_workers_.get(), options_.process.shutdown_grace);
      LOG_EVENT(kInfo, "gRPC server stopped").Field("elapsed_seconds", absl::Now() - start);
    }
    // Batches already taken are committed before the database goes.
    if (ingest_pipeline_ != nullptr) ingest_pipeline_->Shutdown();
    if (ingest_writer_ != nullptr) ingest_writer_->Stop();
    if (affinity_ != nullptr) affinity_->Stop();  // with a last flush
    if (forecast_refresher_ != nullptr) forecast_refresher_->Stop();
    forecast_loop_.reset();
    if (forecast_workers_ != nullptr) forecast_workers_->Shutdown();
    retention_loop_.reset();
    telemetry_refresh_loop_.reset();
    if (migration_driver_ != nullptr) migration_driver_->Stop();  // steps finish, leases go
    sync_loop_.reset();                                           // before what its runs use
    sync_scheduler_.reset();
    reconcile_loop_.reset();
    orphan_reaper_.reset();
    compute_.reset();
    if (supervisor_ != nullptr) supervisor_->Stop();
    supervisor_.reset();
    pool_.reset();
    if (embedded_ != nullptr) {
      if (absl::Status s = embedded_->Stop(); !s.ok()) {
        LOG_EVENT(kError, "stopping embedded PostgreSQL failed").Field("error", s);
      }
      embedded_.reset();
    }
    exposer_.reset();
    LOG_EVENT(kDebug, "metrics endpoint stopped").Field("elapsed_seconds", absl::Now() - start);
  }

  int grpc_port_ = 0;
  int metrics_port_ = 0;

 private:
  absl::Status StartCompute() {
    providers::ComputeProviderRegistry registry;
    RETURN_IF_ERROR(RegisterBuiltinComputeProviders(registry));
    inventory_ = std::make_unique<store::InventoryStore>(pool_.get());
    providers::ComputeProviderContext context;
    context.location_endpoint = [this](const std::string& location) {
      return inventory_->AgentEndpoint(location);
    };
    context.call_timeout = options_.compute.agent_call_timeout;
    context.metrics = registry_.get();
    auto compute = registry.Create(options_.compute.compute_provider, context);
    if (!compute.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--compute_provider: ", compute.status().message()));
    }
    compute_ = *std::move(compute);
    reconcile::OrphanReaperInputs inputs;
    inputs.locations = [this]() -> absl::StatusOr<std::vector<std::string>> {
      ASSIGN_OR_RETURN(auto endpoints, inventory_->AgentEndpoints());
      std::vector<std::string> names;
      for (const auto& [name, endpoint] : endpoints) names.push_back(name);
      return names;
    };
    inputs.live_resources = [this](const std::vector<std::string>& ids) {
      return inventory_->LiveResources(ids);
    };
    inputs.recorded_instances = [this](const std::vector<std::string>& ids) {
      return inventory_->RecordedInstances(ids);
    };
    orphan_reaper_ =
        std::make_unique<reconcile::OrphanInstanceReaper>(compute_.get(), inputs, registry_.get());
    reservation::ReservationOptions reservation_options;
    reservation_options.cost.min_shadow_distance_km = options_.placement.shadow_min_distance_km;
    reservation_options.cost.latency_cost_per_ms_hour = options_.placement.latency_cost_per_ms_hour;
    reservation_options.rtt = geo::RttModel(options_.placement.rtt_ms_per_100km);
    if (catalog_.has_value()) {
      for (const auto& m : catalog_->measured_rtts) {
        reservation_options.rtt.SetMeasured(m.region, m.location, m.rtt_ms);
      }
    }
    reservation_options.default_shadow_sync_interval_seconds =
        absl::ToDoubleSeconds(options_.sync.shadow_sync_interval);
    reservation_options.service_name_template = options_.traffic.traffic_service_name;
    RETURN_IF_ERROR(StartTraffic());
    reservation_manager_ = std::make_unique<reservation::ReservationManager>(
        reservations_.get(), locations_.get(), compute_.get(), clock_.get(), reservation_options,
        registry_.get(), traffic_.get());
    sync_runs_ = std::make_unique<store::SyncRunRepository>(pool_.get());
    leases_ = std::make_unique<store::LeaseStore>(pool_.get());
    shadow::ShadowSyncerOptions syncer_options;
    syncer_options.round_timeout = options_.sync.sync_round_timeout;
    shadow_syncer_ = std::make_unique<shadow::ShadowSyncer>(reservations_.get(), inventory_.get(),
                                                            sync_runs_.get(), clock_.get(),
                                                            syncer_options, registry_.get());
    return absl::OkStatus();
  }

  // The traffic provider, when one is configured; its settings come from the flags (a TSIG
  // secret from its file, so that it never shows in a process listing).
  absl::Status StartTraffic() {
    if (options_.traffic.traffic_provider.empty()) return absl::OkStatus();
    providers::TrafficProviderRegistry registry;
    RETURN_IF_ERROR(RegisterBuiltinTrafficProviders(registry));
    providers::TrafficProviderContext context;
    context.settings = options_.traffic.provider_settings;
    if (auto file = context.settings.find("dns_tsig_secret_file"); file != context.settings.end()) {
      absl::StatusOr<std::string> secret = ReadFile(file->second);
      if (!secret.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--dns_tsig_secret_file: ", secret.status().message()));
      }
      context.settings["dns_tsig_secret"] = std::string(absl::StripAsciiWhitespace(*secret));
    }
    auto traffic = registry.Create(options_.traffic.traffic_provider, context);
    if (!traffic.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--traffic_provider=", options_.traffic.traffic_provider, ": ",
                       traffic.status().message()));
    }
    traffic_ = *std::move(traffic);
    LOG_EVENT(kInfo, "traffic provider ready").Field("provider", traffic_->name());
    return absl::OkStatus();
  }

  absl::Status StartTelemetry() {
    std::shared_ptr<const geo::GeoIpDatabase> geoip;
    if (!options_.telemetry.geoip_db.empty()) {
      auto opened =
          geo::GeoIpDatabase::Open(options_.telemetry.geoip_db, options_.telemetry.geoip_field);
      if (!opened.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("--geoip_db: ", opened.status().message()));
      }
      geoip = *std::move(opened);
    }
    origins_ = std::make_unique<ingest::OriginLookup>(std::move(geoip));
    directory_ = std::make_unique<ingest::ResourceDirectory>(
        [this]() -> absl::StatusOr<ingest::DirectorySnapshot> {
          ASSIGN_OR_RETURN(store::ResourceDirectoryRows rows, telemetry_->LoadResourceDirectory());
          return ingest::SnapshotFromRows(std::move(rows));
        },
        absl::Milliseconds(200));
    ingest::ValidationOptions validation;
    validation.raw_retention = options_.telemetry.access_log_retention;
    validation.demand_retention = options_.telemetry.demand_retention;
    validator_ = std::make_unique<ingest::EventValidator>(clock_.get(), directory_.get(),
                                                          origins_.get(), validation);
    store::CommitOptions commit;
    commit.merge_sketches = ingest::MergeSerialized;
    access_log_ = std::make_unique<store::AccessLogStore>(pool_.get(), commit);
    ingest::AffinityOptions affinity;
    affinity.resolution = options_.telemetry.affinity_resolution;
    affinity_ =
        std::make_unique<ingest::AffinityTracker>(telemetry_.get(), affinity, registry_.get());
    ingest::IngestWriterOptions writer;
    writer.max_queued_records = options_.telemetry.ingest_queue_records;
    writer.max_group_records = options_.telemetry.ingest_group_records;
    writer.commit_deadline = options_.telemetry.ingest_commit_deadline;
    writer.retry_after = options_.telemetry.ingest_retry_after;
    writer.writers = options_.telemetry.ingest_writers;
    ingest_writer_ = std::make_unique<ingest::IngestWriter>(
        access_log_.get(), clock_.get(), affinity_.get(), writer, registry_.get());
    ingest::PipelineOptions pipeline;
    pipeline.max_batch_events = options_.telemetry.max_batch_events;
    pipeline.validate_threads = options_.telemetry.ingest_threads;
    ingest_pipeline_ =
        std::make_unique<ingest::IngestPipeline>(validator_.get(), ingest_writer_.get(), pipeline);
    demand_reader_ =
        std::make_unique<ingest::DemandReader>(telemetry_.get(), clock_.get(), kMaxDemandPoints);
    return absl::OkStatus();
  }

  // Resources, regions and client networks the ingest path checks events against.
  absl::Status RefreshTelemetryInputs() {
    RETURN_IF_ERROR(directory_->Reload());
    ASSIGN_OR_RETURN(std::vector<store::GeoNetworkRow> networks, telemetry_->GeoNetworks());
    std::vector<geo::CidrRule> rules;
    for (const store::GeoNetworkRow& n : networks) rules.push_back({n.network, n.region});
    return origins_->SetNetworks(rules);
  }

  void StartTelemetryLoops() {
    ingest::RetentionOptions retention;
    retention.raw_retention = options_.telemetry.access_log_retention;
    retention.demand_retention = options_.telemetry.demand_retention;
    retention.batch_dedup_window = options_.telemetry.batch_dedup_window;
    retention.owner = ReplicaName();
    retention.lease_ttl = 3 * options_.telemetry.retention_interval;
    retention_keeper_ = std::make_unique<ingest::RetentionKeeper>(
        access_log_.get(), leases_.get(), clock_.get(), retention, registry_.get());
    telemetry_refresh_loop_ =
        std::make_unique<PeriodicTask>(options_.telemetry.telemetry_refresh_interval, [this] {
          if (!supervisor_->ready()) return;
          if (absl::Status s = RefreshTelemetryInputs(); !s.ok()) {
            LOG_EVENT(kWarning, "reloading resources and client networks failed").Field("error", s);
          }
        });
    affinity_->Start(options_.telemetry.affinity_flush_interval,
                     [this] { return supervisor_->ready(); });
    // The first pass runs as soon as the database is ready (partitions for today and ahead).
    retention_loop_ = StartPassLoop(
        options_.telemetry.retention_interval, [this] { return supervisor_->ready(); },
        [this] {
          absl::StatusOr<bool> ran = retention_keeper_->RunOnce();
          if (!ran.ok()) {
            LOG_EVENT(kWarning, "telemetry retention pass failed").Field("error", ran.status());
          }
          return ran.ok();
        });
  }

  void StartForecasting() {
    forecasts_ = std::make_unique<store::ForecastRepository>(pool_.get());
    forecast::ForecasterOptions forecaster;
    forecaster.history = options_.forecast.forecast_history;
    // Stored forecasts reach the longest horizon even when they are refit_hours old.
    forecaster.stored_horizon_hours =
        options_.forecast.max_horizon_hours + options_.forecast.forecast_refit_hours;
    forecaster.sample_paths = options_.forecast.sample_paths;
    events_ = std::make_unique<store::EventRepository>(pool_.get());
    known_events_ = std::make_unique<forecast::KnownEvents>(events_.get());
    event_registry_ =
        std::make_unique<forecast::EventRegistry>(events_.get(), clock_.get(), registry_.get());
    forecaster_ = std::make_unique<forecast::Forecaster>(
        telemetry_.get(), clock_.get(), forecaster, registry_.get(), nullptr, known_events_.get());
    forecast::PredictorOptions predictor;
    predictor.max_horizon_hours = options_.forecast.max_horizon_hours;
    predictor.compute_deadline = options_.forecast.forecast_deadline;
    predictor_ = std::make_unique<forecast::Predictor>(
        forecaster_.get(), forecasts_.get(), telemetry_.get(), clock_.get(), predictor,
        registry_.get(), locations_.get(), reservations_.get(), known_events_.get());
  }

  void StartForecastLoop() {
    forecast::RefresherOptions refresher;
    refresher.owner = ReplicaName();
    refresher.lease_ttl = 3 * options_.forecast.forecast_interval;
    refresher.refit_hours = options_.forecast.forecast_refit_hours;
    refresher.resource_deadline = options_.forecast.forecast_deadline;
    refresher.retention = options_.forecast.forecast_retention;
    refresher.max_in_flight = 2 * options_.forecast.forecast_threads;
    forecast_workers_ = std::make_unique<WorkerPool>("forecast", options_.forecast.forecast_threads,
                                                     refresher.max_in_flight);
    forecast_scorer_ = std::make_unique<forecast::ForecastScorer>(
        forecasts_.get(), telemetry_.get(), clock_.get(), forecast::ScorerOptions{},
        registry_.get(), known_events_.get());
    event_measurer_ = std::make_unique<forecast::EventMeasurer>(
        forecaster_.get(), events_.get(), telemetry_.get(), known_events_.get(), clock_.get(),
        forecast::MeasurerOptions{}, registry_.get());
    forecast_refresher_ = std::make_unique<forecast::ForecastRefresher>(
        forecaster_.get(), forecasts_.get(), leases_.get(), clock_.get(), forecast_workers_.get(),
        refresher, registry_.get(), forecast_scorer_.get(), event_measurer_.get());
    forecast_loop_ = StartPassLoop(
        options_.forecast.forecast_interval, [this] { return supervisor_->ready(); },
        [this] {
          absl::StatusOr<forecast::ForecastRefresher::Pass> pass = forecast_refresher_->RunOnce();
          if (!pass.ok()) {
            LOG_EVENT(kWarning, "forecast refresh pass failed").Field("error", pass.status());
          }
          return pass.ok();
        });
  }

  void StartMigrations() {
    migrations_repo_ = std::make_unique<store::MigrationRepository>(pool_.get());
    cutovers_ = std::make_unique<store::CutoverRepository>(pool_.get());
    freeze_model_ = std::make_unique<migration::FreezeModelKeeper>(cutovers_.get(), clock_.get());
    if (traffic_ != nullptr) {
      traffic_switches_ = std::make_unique<store::TrafficSwitchRepository>(pool_.get());
      switcher_ = std::make_unique<traffic::TrafficSwitcher>(
          traffic_.get(), traffic_switches_.get(), clock_.get(), registry_.get());
    }
    migration::MigratorOptions migrator;
    migrator.cutover_dirty_bytes = options_.migration.cutover_dirty_bytes;
    migrator.max_precopy_rounds = options_.migration.max_precopy_rounds;
    migrator.freeze_hold = options_.migration.freeze_hold;
    migrator.observe_window = options_.migration.observe_window;
    migrator.max_active = options_.migration.max_migrations;
    migrator.max_active_per_location = options_.migration.max_migrations_per_location;
    migrator.min_shadow_distance_km = options_.placement.shadow_min_distance_km;
    migrator.rtt = geo::RttModel(options_.placement.rtt_ms_per_100km);
    if (catalog_.has_value()) {
      for (const auto& m : catalog_->measured_rtts) {
        migrator.rtt.SetMeasured(m.region, m.location, m.rtt_ms);
      }
    }
    migrator_ = std::make_unique<migration::Migrator>(
        migrations_repo_.get(), reservations_.get(), locations_.get(), forecasts_.get(),
        telemetry_.get(), compute_.get(), shadow_syncer_.get(), traffic_.get(), switcher_.get(),
        freeze_model_.get(), clock_.get(), migrator, registry_.get());
    migration::MigrationDriverOptions driver;
    driver.owner = ReplicaName();
    driver.tick = options_.migration.migration_tick;
    driver.lease_ttl = options_.migration.migration_lease_ttl;
    driver.step_deadline = options_.migration.migration_step_deadline;
    driver.ready = [this] { return supervisor_ != nullptr && supervisor_->ready(); };
    migration_driver_ = std::make_unique<migration::MigrationDriver>(
        migrations_repo_.get(), migrator_.get(), driver, registry_.get());
    migration_manager_ = std::make_unique<migration::MigrationManager>(
        migrations_repo_.get(), reservations_.get(), locations_.get(), clock_.get(),
        [this] { migration_driver_->Wake(); });
  }

  std::string ReplicaName() const {
    char host[256] = "unknown";
    gethostname(host, sizeof(host) - 1);
    return absl::StrCat(host, ":", getpid(), ":", grpc_port_);
  }

  void StartSyncScheduler() {
    shadow::SyncSchedulerOptions scheduler;
    scheduler.owner = ReplicaName();
    scheduler.lease_ttl = options_.sync.sync_lease_ttl;
    scheduler.jitter = options_.sync.sync_jitter;
    scheduler.concurrency = options_.sync.sync_concurrency;
    sync_scheduler_ = std::make_unique<shadow::SyncScheduler>(
        shadow_syncer_.get(), sync_runs_.get(), leases_.get(), clock_.get(), scheduler,
        registry_.get());
    sync_loop_ = std::make_unique<PeriodicTask>(options_.sync.sync_tick, [this] {
      if (!supervisor_->ready()) return;
      absl::StatusOr<int> started = sync_scheduler_->Tick();
      if (!started.ok()) {
        LOG_EVENT(kWarning, "sync scheduler pass failed").Field("error", started.status());
      }
    });
  }

  void StartReconcileLoop() {
    reconcile_loop_ = std::make_unique<PeriodicTask>(options_.compute.reconcile_interval, [this] {
      if (!supervisor_->ready()) return;
      // One replica at a time: the lock's holder does the pass, the others skip it.
      auto ran = store::RunUnderAdvisoryLock(*pool_, kReconcileLockKey, [this] {
        if (absl::Status s = reservation_manager_->ReconcileOnce(); !s.ok()) {
          LOG_EVENT(kWarning, "reservation reconcile pass failed").Field("error", s);
        }
        return orphan_reaper_->RunOnce().status();
      });
      if (!ran.ok()) LOG_EVENT(kWarning, "reconcile pass failed").Field("error", ran.status());
    });
  }

  absl::Status StartMetrics() {
    ASSIGN_OR_RETURN(exposer_, StartMetricsEndpoint(options_.process.metrics_listen,
                                                    "metrics_listen", registry_, &metrics_port_));
    return absl::OkStatus();
  }

  absl::Status StartGrpc() {
    health_ = std::make_unique<api::HealthService>(&serving_);
    server_info_ = std::make_unique<api::ServerInfoService>([this] { return Facts(); });
    // Handlers that block run here; as many as database connections, so none waits for one.
    rpc_workers_ = std::make_unique<WorkerPool>("rpc", options_.storage.db_pool_size, 4096);
    location_cache_ = std::make_unique<catalog::LocationCache>(locations_.get(), absl::Seconds(1));
    location_service_ = std::make_unique<api::LocationService>(
        locations_.get(), location_cache_.get(), clock_.get(), rpc_workers_.get());
    reservation_service_ =
        std::make_unique<api::ReservationService>(reservation_manager_.get(), rpc_workers_.get());
    // A SyncNow call waits for a whole round: such calls get threads of their own.
    sync_rpc_workers_ =
        std::make_unique<WorkerPool>("sync-rpc", options_.sync.sync_concurrency, 64);
    sync_service_ = std::make_unique<api::SyncService>(shadow_syncer_.get(), sync_runs_.get(),
                                                       sync_rpc_workers_.get());
    telemetry_service_ = std::make_unique<api::TelemetryService>(
        ingest_pipeline_.get(), demand_reader_.get(), rpc_workers_.get(),
        options_.telemetry.ingest_stream_in_flight);
    forecast_service_ =
        std::make_unique<api::ForecastService>(predictor_.get(), rpc_workers_.get());
    event_service_ = std::make_unique<api::EventService>(event_registry_.get(), rpc_workers_.get());
    migration_service_ =
        std::make_unique<api::MigrationService>(migration_manager_.get(), rpc_workers_.get());
    ASSIGN_OR_RETURN(
        grpc_server_,
        StartGrpcServer(options_.process.listen, "listen",
                        {health_.get(), server_info_.get(), location_service_.get(),
                         reservation_service_.get(), sync_service_.get(), telemetry_service_.get(),
                         forecast_service_.get(), event_service_.get(), migration_service_.get()},
                        registry_.get(), &grpc_port_));
    return absl::OkStatus();
  }

  shadowplane::v1::GetServerInfoResponse Facts() const {
    shadowplane::v1::GetServerInfoResponse facts;
    facts.set_version(SHADOWPLANE_VERSION);
    facts.set_git_commit(SHADOWPLANE_GIT_COMMIT);
    *facts.mutable_domain_time() = ToProtoTime(clock_->Now());
    facts.set_time_scale(options_.process.time_scale);
    if (const auto* scaled = dynamic_cast<const ScaledClock*>(clock_.get());
        scaled != nullptr && options_.process.time_scale != 1.0) {
      *facts.mutable_time_epoch() = ToProtoTime(scaled->epoch());
    }
    const bool ready = supervisor_ != nullptr && supervisor_->ready();
    facts.set_database_ready(ready);
    facts.set_schema_version(ready ? supervisor_->schema_version() : 0);
    facts.set_database_mode(options_.storage.database_url.empty() ? "embedded" : "external");
    *facts.mutable_started_at() = ToProtoTime(started_at_);
    return facts;
  }

  const ServerOptions options_;
  const absl::Time started_at_ = absl::Now();
  std::unique_ptr<Clock> clock_;
  std::vector<store::Migration> migrations_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  ServingStatus serving_;
  std::unique_ptr<api::HealthService> health_;
  std::unique_ptr<api::ServerInfoService> server_info_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<store::EmbeddedPostgres> embedded_;
  std::string database_url_;
  std::unique_ptr<store::ConnectionPool> pool_;
  std::unique_ptr<DatabaseSupervisor> supervisor_;
  std::unique_ptr<store::InventoryStore> inventory_;
  std::unique_ptr<providers::ComputeProvider> compute_;
  std::unique_ptr<providers::TrafficProvider> traffic_;
  std::unique_ptr<reconcile::OrphanInstanceReaper> orphan_reaper_;
  std::unique_ptr<PeriodicTask> reconcile_loop_;
  std::optional<catalog::CatalogFile> catalog_;
  std::unique_ptr<store::LocationRepository> locations_;
  std::unique_ptr<store::ReservationRepository> reservations_;
  std::unique_ptr<reservation::ReservationManager> reservation_manager_;
  std::unique_ptr<WorkerPool> rpc_workers_;
  std::unique_ptr<catalog::LocationCache> location_cache_;
  std::unique_ptr<api::LocationService> location_service_;
  std::unique_ptr<api::ReservationService> reservation_service_;
  std::unique_ptr<WorkerPool> sync_rpc_workers_;
  std::unique_ptr<api::SyncService> sync_service_;
  std::unique_ptr<store::SyncRunRepository> sync_runs_;
  std::unique_ptr<store::LeaseStore> leases_;
  std::unique_ptr<shadow::ShadowSyncer> shadow_syncer_;
  std::unique_ptr<shadow::SyncScheduler> sync_scheduler_;
  std::unique_ptr<PeriodicTask> sync_loop_;
  std::unique_ptr<store::TelemetryRepository> telemetry_;
  std::unique_ptr<store::AccessLogStore> access_log_;
  std::unique_ptr<ingest::OriginLookup> origins_;
  std::unique_ptr<ingest::ResourceDirectory> directory_;
  std::unique_ptr<ingest::EventValidator> validator_;
  std::unique_ptr<ingest::AffinityTracker> affinity_;
  std::unique_ptr<ingest::IngestWriter> ingest_writer_;
  std::unique_ptr<ingest::IngestPipeline> ingest_pipeline_;
  std::unique_ptr<ingest::DemandReader> demand_reader_;
  std::unique_ptr<ingest::RetentionKeeper> retention_keeper_;
  std::unique_ptr<api::TelemetryService> telemetry_service_;
  std::unique_ptr<PeriodicTask> telemetry_refresh_loop_;
  std::unique_ptr<PeriodicTask> retention_loop_;
  std::unique_ptr<store::ForecastRepository> forecasts_;
  std::unique_ptr<store::EventRepository> events_;
  std::unique_ptr<forecast::KnownEvents> known_events_;
  std::unique_ptr<forecast::EventRegistry> event_registry_;
  std::unique_ptr<forecast::Forecaster> forecaster_;
  std::unique_ptr<forecast::Predictor> predictor_;
  std::unique_ptr<api::ForecastService> forecast_service_;
  std::unique_ptr<api::EventService> event_service_;
  std::unique_ptr<WorkerPool> forecast_workers_;
  std::unique_ptr<forecast::ForecastScorer> forecast_scorer_;
  std::unique_ptr<forecast::EventMeasurer> event_measurer_;
  std::unique_ptr<forecast::ForecastRefresher> forecast_refresher_;
  std::unique_ptr<PeriodicTask> forecast_loop_;
  std::unique_ptr<store::MigrationRepository> migrations_repo_;
  std::unique_ptr<store::CutoverRepository> cutovers_;
  std::unique_ptr<migration::FreezeModelKeeper> freeze_model_;
  std::unique_ptr<store::TrafficSwitchRepository> traffic_switches_;
  std::unique_ptr<traffic::TrafficSwitcher> switcher_;
  std::unique_ptr<migration::Migrator> migrator_;
  std::unique_ptr<migration::MigrationDriver> migration_driver_;
  std::unique_ptr<migration::MigrationManager> migration_manager_;
  std::unique_ptr<api::MigrationService> migration_service_;

  absl::Mutex mu_;
  bool stop_requested_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status stop_reason_ ABSL_GUARDED_BY(mu_);
};

ShadowplaneServer::ShadowplaneServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ShadowplaneServer::~ShadowplaneServer() {
  Shutdown();
  impl_->TearDown();
}

absl::StatusOr<std::unique_ptr<ShadowplaneServer>> ShadowplaneServer::Start(
    const ServerOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  if (absl::Status s = impl->Start(); !s.ok()) {
    impl->TearDown();
    return s;
  }
  return std::unique_ptr<ShadowplaneServer>(new ShadowplaneServer(std::move(impl)));
}

void ShadowplaneServer::Shutdown() { impl_->Stop(absl::OkStatus()); }
absl::Status ShadowplaneServer::Wait() { return impl_->Wait(); }
int ShadowplaneServer::grpc_port() const { return impl_->grpc_port_; }
int ShadowplaneServer::metrics_port() const { return impl_->metrics_port_; }

}  // namespace shadowplane::server
