// shadowplane: the control-plane server. See README.md for the flags, or run --help.

#include <malloc.h>

#include <cstdlib>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "server/process_startup.h"
#include "server/shadowplane_server.h"
#include "store/embedded_postgres.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "gRPC listen address, host:port");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9464",
          "Prometheus /metrics listen address, host:port");
ABSL_FLAG(std::string, database_url, "",
          "PostgreSQL connection string or URL; empty starts a private embedded cluster under "
          "--data_dir");
ABSL_FLAG(std::string, data_dir, "",
          "Directory of the embedded PostgreSQL cluster; default /var/lib/shadowplane for root, "
          "else $XDG_DATA_HOME/shadowplane or ~/.local/share/shadowplane");
ABSL_FLAG(std::string, db_system_user, "shadowplane",
          "When running as root: the system user that runs the embedded PostgreSQL");
ABSL_FLAG(std::string, postgres_bin_dir, "/usr/lib/postgresql/15/bin",
          "Where initdb, pg_ctl and postgres are");
ABSL_FLAG(int, db_pool_size, 8, "Most database connections to open");
ABSL_FLAG(absl::Duration, db_check_interval, absl::Seconds(2),
          "How often to check that the database is still reachable");
ABSL_FLAG(std::string, migrations_dir, "",
          "Read schema migrations from this directory instead of those built in");
ABSL_FLAG(double, time_scale, 1.0,
          "Domain seconds per real second (demos run faster than real time); not 1 needs "
          "--time_epoch");
ABSL_FLAG(std::string, time_epoch, "",
          "RFC 3339 instant where domain time equals real time; shared by every process of a "
          "deployment");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGINT/SIGTERM, how long in-flight calls may take before they are cancelled");
ABSL_FLAG(std::string, compute_provider, "local",
          "Compute provider that runs instances: local (shadowplane-agent per location)");
ABSL_FLAG(absl::Duration, agent_call_timeout, absl::Seconds(15),
          "Deadline of one call to a location's agent");
ABSL_FLAG(absl::Duration, reconcile_interval, absl::Seconds(30),
          "How often instances are reconciled with the database (orphans stopped)");
ABSL_FLAG(std::string, traffic_provider, "",
          "Traffic provider that steers reservations' clients to their primary: rfc2136 (dynamic "
          "DNS), haproxy (HAProxy runtime API), or empty (none)");
ABSL_FLAG(std::string, traffic_service_name, "{name}",
          "A reservation's service name when it names none; {name} is the resource's name (DNS: "
          "relative to --dns_zone)");
ABSL_FLAG(std::string, dns_server, "",
          "rfc2136: the authoritative DNS server taking updates, IP:port");
ABSL_FLAG(std::string, dns_zone, "", "rfc2136: the zone service names live in, e.g. svc.example.");
ABSL_FLAG(std::string, dns_tsig_key_name, "", "rfc2136: the TSIG key's name (hmac-sha256)");
ABSL_FLAG(std::string, dns_tsig_secret_file, "",
          "rfc2136: a file holding the TSIG key's base64 secret");
ABSL_FLAG(std::string, dns_ttl, "", "rfc2136: the TTL of managed names (default 30s)");
ABSL_FLAG(std::string, dns_prepare_ttl, "",
          "rfc2136: the TTL a name gets ahead of a switch (default 5s)");
ABSL_FLAG(
    std::string, dns_drain_margin, "",
    "rfc2136: how long past the TTL the old primary forwards writes after a switch (default 10s)");
ABSL_FLAG(std::string, haproxy_socket, "", "haproxy: HAProxy's stats socket (level admin)");
ABSL_FLAG(std::string, haproxy_slot, "",
          "haproxy: the server slot in each backend that names the primary (default live)");
ABSL_FLAG(std::string, haproxy_state_file, "",
          "haproxy: HAProxy's server-state-file, rewritten after every change so reloads keep it");
ABSL_FLAG(std::string, haproxy_drain, "",
          "haproxy: how long connections to the old primary may last after a switch (default 30s)");
ABSL_FLAG(std::string, locations_file, "",
          "YAML file of regions and locations applied at start-up (the file wins over rows it "
          "names)");
ABSL_FLAG(double, shadow_min_distance_km, 500,
          "A shadow must be at least this far from its primary, and in another region");
ABSL_FLAG(double, latency_cost_per_ms_hour, 0.0005,
          "Placement: dollars per hour for each millisecond of demand-weighted client RTT");
ABSL_FLAG(double, rtt_ms_per_100km, 1.0,
          "RTT estimate per 100 km of distance, where no measured RTT is given");
ABSL_FLAG(absl::Duration, shadow_sync_interval, absl::Seconds(60),
          "Default time between a shadow's sync rounds, in domain time (a reservation may set "
          "its own)");
ABSL_FLAG(absl::Duration, sync_tick, absl::Seconds(1),
          "How often the sync scheduler looks for shadows that are due");
ABSL_FLAG(int, sync_concurrency, 4, "Sync rounds run at once (scheduled and SyncNow each)");
ABSL_FLAG(absl::Duration, sync_round_timeout, absl::Minutes(30), "Longest a sync round may take");
ABSL_FLAG(absl::Duration, sync_lease_ttl, absl::Seconds(15),
          "Lifetime of the sync scheduler's lease: how soon another replica takes over");
ABSL_FLAG(double, sync_jitter, 0.1, "Sync intervals vary randomly by up to this fraction");
ABSL_FLAG(int64_t, cutover_dirty_bytes, 8 << 20,
          "Migrations: pre-copy ends when a round leaves at most this many bytes changed");
ABSL_FLAG(int, max_precopy_rounds, 10, "Migrations: pre-copy rounds at most before the cutover");
ABSL_FLAG(absl::Duration, freeze_hold, absl::ZeroDuration(),
          "Migrations: how long the old primary holds a write during the cutover's freeze "
          "(0: twice the freeze model's high estimate, within [5s, 60s])");
ABSL_FLAG(absl::Duration, observe_window, absl::Hours(6),
          "Migrations: how long realised demand is watched after a move");
ABSL_FLAG(int, max_migrations, 4, "Migrations at work at once across all locations");
ABSL_FLAG(int, max_migrations_per_location, 2, "Migrations at work at once into one location");
ABSL_FLAG(absl::Duration, migration_step_deadline, absl::Minutes(10),
          "Migrations: how long a step retries before the migration rolls back (before its "
          "traffic switch; after it, steps retry until they succeed)");
ABSL_FLAG(absl::Duration, migration_tick, absl::Milliseconds(500),
          "Migrations: how often leases are claimed and renewed");
ABSL_FLAG(absl::Duration, migration_lease_ttl, absl::Seconds(15),
          "Migrations: lease lifetime, how soon another server resumes a dead one's migration");
ABSL_FLAG(std::string, geoip_db, "",
          "MaxMind-format database (.mmdb) of client networks -> origin regions, consulted after "
          "the CIDR table; empty: none");
ABSL_FLAG(std::string, geoip_field, "region",
          "Path of the region name in the GeoIP database's records, dot-separated");
ABSL_FLAG(absl::Duration, access_log_retention, absl::Hours(24 * 30),
          "How long raw access events, utilization samples and affinity are kept (whole days)");
ABSL_FLAG(absl::Duration, demand_retention, absl::Hours(24 * 400),
          "How long hourly demand rollups are kept; older events are refused");
ABSL_FLAG(absl::Duration, batch_dedup_window, absl::Hours(24),
          "How long a committed batch id is remembered, so that its retry is not stored twice");
ABSL_FLAG(int, max_batch_events, 10000, "Most events plus samples in one telemetry batch");
ABSL_FLAG(int, ingest_queue_records, 50000,
          "Events and samples waiting for the database at most; beyond, RESOURCE_EXHAUSTED");
ABSL_FLAG(int, ingest_group_records, 25000, "Most records committed in one transaction");
ABSL_FLAG(absl::Duration, ingest_commit_deadline, absl::Seconds(30),
          "How long a telemetry commit is retried while the database is unreachable");
ABSL_FLAG(absl::Duration, ingest_retry_after, absl::Seconds(1),
          "Retry hint given to senders when the ingest queue is full");
ABSL_FLAG(int, ingest_threads, 2, "Threads validating telemetry batches");
ABSL_FLAG(int, ingest_writers, 2,
          "Telemetry groups committed at once, each on its own database connection");
ABSL_FLAG(int, ingest_stream_in_flight, 16,
          "Unanswered batches per RecordAccess stream before the server stops reading it");
ABSL_FLAG(absl::Duration, retention_interval, absl::Minutes(10),
          "How often telemetry partitions are created ahead and old data dropped");
ABSL_FLAG(absl::Duration, affinity_flush_interval, absl::Seconds(5),
          "How often coalesced client affinity updates are written");
ABSL_FLAG(absl::Duration, affinity_resolution, absl::Minutes(1),
          "A client's affinity row is rewritten for the same instance only when it was seen this "
          "much later (domain time)");
ABSL_FLAG(absl::Duration, telemetry_refresh_interval, absl::Seconds(30),
          "How often resources, regions and client networks are re-read for ingest");
ABSL_FLAG(absl::Duration, forecast_history, absl::Hours(24 * 7 * 8),
          "How much hourly demand history forecasts are fitted to (at least 24h)");
ABSL_FLAG(int, max_horizon_hours, 168, "The longest forecast horizon Predict serves, in hours");
ABSL_FLAG(int, forecast_refit_hours, 6,
          "A resource's forecast is recomputed once this many new hours have arrived since it");
ABSL_FLAG(absl::Duration, forecast_interval, absl::Minutes(5),
          "How often the forecast refresher looks for resources due a new forecast");
ABSL_FLAG(int, forecast_threads, 1, "Threads computing scheduled forecasts");
ABSL_FLAG(absl::Duration, forecast_deadline, absl::Seconds(30),
          "Longest one resource's forecast may take to compute");
ABSL_FLAG(absl::Duration, forecast_retention, absl::Hours(24 * 90),
          "How long stored forecasts are kept (to score them and cite them later)");
ABSL_FLAG(int, sample_paths, 200,
          "Joint sample paths of demand kept per resource (1 to 10000); Predict returns at most "
          "this many");

namespace {

using shadowplane::server::kExitConfigError;

int Main(int argc, char** argv) {
  // glibc gives each busy thread its own malloc arena (up to 8 per core) and rarely returns their
  // memory; the ingest path's threads would hold a multiple of what they use. Four arenas keep
  // the peak close to the live set at no measurable cost. MALLOC_ARENA_MAX still wins if set.
  if (getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 4);
  if (auto exit_code = shadowplane::server::PrepareProcess(
          "shadowplane",
          "the shadowplane control plane: gRPC API, health, reflection and Prometheus metrics "
          "over PostgreSQL (an embedded private cluster unless --database_url is given).",
          argc, argv)) {
    return *exit_code;
  }

  shadowplane::server::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.database_url = absl::GetFlag(FLAGS_database_url);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  if (options.data_dir.empty())
    options.data_dir = shadowplane::store::EmbeddedPostgres::DefaultDataDir();
  options.db_system_user = absl::GetFlag(FLAGS_db_system_user);
  options.postgres_bin_dir = absl::GetFlag(FLAGS_postgres_bin_dir);
  options.db_pool_size = absl::GetFlag(FLAGS_db_pool_size);
  options.db_check_interval = absl::GetFlag(FLAGS_db_check_interval);
  options.migrations_dir = absl::GetFlag(FLAGS_migrations_dir);
  options.time_scale = absl::GetFlag(FLAGS_time_scale);
  options.time_epoch = absl::GetFlag(FLAGS_time_epoch);
  options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  options.compute_provider = absl::GetFlag(FLAGS_compute_provider);
  options.agent_call_timeout = absl::GetFlag(FLAGS_agent_call_timeout);
  options.reconcile_interval = absl::GetFlag(FLAGS_reconcile_interval);
  options.traffic_provider = absl::GetFlag(FLAGS_traffic_provider);
  options.traffic_service_name = absl::GetFlag(FLAGS_traffic_service_name);
  for (const auto& [name, value] : std::vector<std::pair<const char*, std::string>>{
           {"dns_server", absl::GetFlag(FLAGS_dns_server)},
           {"dns_zone", absl::GetFlag(FLAGS_dns_zone)},
           {"dns_tsig_key_name", absl::GetFlag(FLAGS_dns_tsig_key_name)},
           {"dns_tsig_secret_file", absl::GetFlag(FLAGS_dns_tsig_secret_file)},
           {"dns_ttl", absl::GetFlag(FLAGS_dns_ttl)},
           {"dns_prepare_ttl", absl::GetFlag(FLAGS_dns_prepare_ttl)},
           {"dns_drain_margin", absl::GetFlag(FLAGS_dns_drain_margin)},
           {"haproxy_socket", absl::GetFlag(FLAGS_haproxy_socket)},
           {"haproxy_slot", absl::GetFlag(FLAGS_haproxy_slot)},
           {"haproxy_state_file", absl::GetFlag(FLAGS_haproxy_state_file)},
           {"haproxy_drain", absl::GetFlag(FLAGS_haproxy_drain)}}) {
    if (!value.empty()) options.traffic_settings[name] = value;
  }
  options.locations_file = absl::GetFlag(FLAGS_locations_file);
  options.shadow_min_distance_km = absl::GetFlag(FLAGS_shadow_min_distance_km);
  options.latency_cost_per_ms_hour = absl::GetFlag(FLAGS_latency_cost_per_ms_hour);
  options.rtt_ms_per_100km = absl::GetFlag(FLAGS_rtt_ms_per_100km);
  options.shadow_sync_interval = absl::GetFlag(FLAGS_shadow_sync_interval);
  options.sync_tick = absl::GetFlag(FLAGS_sync_tick);
  options.sync_concurrency = absl::GetFlag(FLAGS_sync_concurrency);
  options.sync_round_timeout = absl::GetFlag(FLAGS_sync_round_timeout);
  options.sync_lease_ttl = absl::GetFlag(FLAGS_sync_lease_ttl);
  options.sync_jitter = absl::GetFlag(FLAGS_sync_jitter);
  options.cutover_dirty_bytes = absl::GetFlag(FLAGS_cutover_dirty_bytes);
  options.max_precopy_rounds = absl::GetFlag(FLAGS_max_precopy_rounds);
  options.freeze_hold = absl::GetFlag(FLAGS_freeze_hold);
  options.observe_window = absl::GetFlag(FLAGS_observe_window);
  options.max_migrations = absl::GetFlag(FLAGS_max_migrations);
  options.max_migrations_per_location = absl::GetFlag(FLAGS_max_migrations_per_location);
  options.migration_step_deadline = absl::GetFlag(FLAGS_migration_step_deadline);
  options.migration_tick = absl::GetFlag(FLAGS_migration_tick);
  options.migration_lease_ttl = absl::GetFlag(FLAGS_migration_lease_ttl);
  options.geoip_db = absl::GetFlag(FLAGS_geoip_db);
  options.geoip_field = absl::GetFlag(FLAGS_geoip_field);
  options.access_log_retention = absl::GetFlag(FLAGS_access_log_retention);
  options.demand_retention = absl::GetFlag(FLAGS_demand_retention);
  options.batch_dedup_window = absl::GetFlag(FLAGS_batch_dedup_window);
  options.max_batch_events = absl::GetFlag(FLAGS_max_batch_events);
  options.ingest_queue_records = absl::GetFlag(FLAGS_ingest_queue_records);
  options.ingest_group_records = absl::GetFlag(FLAGS_ingest_group_records);
  options.ingest_commit_deadline = absl::GetFlag(FLAGS_ingest_commit_deadline);
  options.ingest_retry_after = absl::GetFlag(FLAGS_ingest_retry_after);
  options.ingest_threads = absl::GetFlag(FLAGS_ingest_threads);
  options.ingest_writers = absl::GetFlag(FLAGS_ingest_writers);
  options.ingest_stream_in_flight = absl::GetFlag(FLAGS_ingest_stream_in_flight);
  options.retention_interval = absl::GetFlag(FLAGS_retention_interval);
  options.affinity_flush_interval = absl::GetFlag(FLAGS_affinity_flush_interval);
  options.telemetry_refresh_interval = absl::GetFlag(FLAGS_telemetry_refresh_interval);
  options.affinity_resolution = absl::GetFlag(FLAGS_affinity_resolution);
  options.forecast_history = absl::GetFlag(FLAGS_forecast_history);
  options.max_horizon_hours = absl::GetFlag(FLAGS_max_horizon_hours);
  options.forecast_refit_hours = absl::GetFlag(FLAGS_forecast_refit_hours);
  options.forecast_interval = absl::GetFlag(FLAGS_forecast_interval);
  options.forecast_threads = absl::GetFlag(FLAGS_forecast_threads);
  options.forecast_deadline = absl::GetFlag(FLAGS_forecast_deadline);
  options.forecast_retention = absl::GetFlag(FLAGS_forecast_retention);
  options.sample_paths = absl::GetFlag(FLAGS_sample_paths);
  if (options.db_pool_size < 1) {
    std::cerr << "shadowplane: db_pool_size must be at least 1\n";
    return kExitConfigError;
  }
  if (options.max_batch_events < 1 || options.ingest_queue_records < options.max_batch_events ||
      options.ingest_group_records < 1 || options.ingest_threads < 1 ||
      options.ingest_writers < 1 || options.ingest_writers >= options.db_pool_size ||
      options.ingest_stream_in_flight < 1) {
    std::cerr << "shadowplane: --max_batch_events, --ingest_group_records, --ingest_threads, "
                 "--ingest_writers and --ingest_stream_in_flight must be at least 1, "
                 "--ingest_writers below --db_pool_size, and --ingest_queue_records at least "
                 "--max_batch_events\n";
    return kExitConfigError;
  }
  if (options.access_log_retention < absl::Hours(24) ||
      options.demand_retention < options.access_log_retention ||
      options.batch_dedup_window <= absl::ZeroDuration() ||
      options.ingest_commit_deadline <= absl::ZeroDuration() ||
      options.ingest_retry_after <= absl::ZeroDuration() ||
      options.retention_interval <= absl::ZeroDuration() ||
      options.affinity_flush_interval <= absl::ZeroDuration() ||
      options.telemetry_refresh_interval <= absl::ZeroDuration()) {
    std::cerr << "shadowplane: --access_log_retention must be at least 24h and "
                 "--demand_retention at least as long; --batch_dedup_window, "
                 "--ingest_commit_deadline, --ingest_retry_after, --retention_interval, "
                 "--affinity_flush_interval and --telemetry_refresh_interval must be positive\n";
    return kExitConfigError;
  }
  if (options.forecast_history < absl::Hours(24) || options.max_horizon_hours < 1 ||
      options.max_horizon_hours > 24 * 7 * 5 || options.forecast_refit_hours < 1 ||
      options.forecast_threads < 1 || options.forecast_interval <= absl::ZeroDuration() ||
      options.forecast_deadline <= absl::ZeroDuration() ||
      options.forecast_retention < absl::Hours(1) || options.sample_paths < 1 ||
      options.sample_paths > 10000) {
    std::cerr << "shadowplane: --forecast_history must be at least 24h, --max_horizon_hours "
                 "within [1, 840], --forecast_refit_hours and --forecast_threads at least 1, "
                 "--forecast_interval and --forecast_deadline positive, --forecast_retention at "
                 "least 1h, --sample_paths within [1, 10000]\n";
    return kExitConfigError;
  }
  if (options.shadow_sync_interval <= absl::ZeroDuration() ||
      options.sync_tick <= absl::ZeroDuration() ||
      options.sync_round_timeout <= absl::ZeroDuration() ||
      options.sync_lease_ttl <= absl::ZeroDuration() || options.sync_concurrency < 1 ||
      !(options.sync_jitter >= 0 && options.sync_jitter < 1)) {
    std::cerr << "shadowplane: --shadow_sync_interval, --sync_tick, --sync_round_timeout and "
                 "--sync_lease_ttl must be positive, --sync_concurrency at least 1 and "
                 "--sync_jitter in [0, 1)\n";
    return kExitConfigError;
  }
  if (options.cutover_dirty_bytes < 0 || options.max_precopy_rounds < 1 ||
      options.freeze_hold < absl::ZeroDuration() || options.freeze_hold > absl::Seconds(60) ||
      options.observe_window < absl::ZeroDuration() || options.max_migrations < 1 ||
      options.max_migrations_per_location < 1 ||
      options.migration_step_deadline <= absl::ZeroDuration() ||
      options.migration_tick <= absl::ZeroDuration() ||
      options.migration_lease_ttl <= options.migration_tick) {
    std::cerr << "shadowplane: --cutover_dirty_bytes must not be negative, --max_precopy_rounds, "
                 "--max_migrations and --max_migrations_per_location at least 1, --freeze_hold "
                 "within [0, 60s], --observe_window not negative, --migration_step_deadline and "
                 "--migration_tick positive, --migration_lease_ttl longer than --migration_tick\n";
    return kExitConfigError;
  }
  if (!(options.shadow_min_distance_km >= 0) || !(options.latency_cost_per_ms_hour >= 0) ||
      !(options.rtt_ms_per_100km >= 0)) {
    std::cerr << "shadowplane: --shadow_min_distance_km, --latency_cost_per_ms_hour and "
                 "--rtt_ms_per_100km must not be negative\n";
    return kExitConfigError;
  }
  if (options.db_check_interval <= absl::ZeroDuration() ||
      options.reconcile_interval <= absl::ZeroDuration() ||
      options.agent_call_timeout <= absl::ZeroDuration() ||
      options.shutdown_grace < absl::ZeroDuration()) {
    std::cerr << "shadowplane: --db_check_interval, --reconcile_interval and --agent_call_timeout "
                 "must be positive and --shutdown_grace not negative\n";
    return kExitConfigError;
  }

  // Signals are blocked before the server starts its threads, which inherit the mask.
  shadowplane::server::StopOnSignal stop_on_signal;
  auto server = shadowplane::server::ShadowplaneServer::Start(options);
  if (!server.ok()) {
    LOG_EVENT(kError, "shadowplane failed to start").Field("error", server.status());
    std::cerr << "shadowplane: " << server.status().message() << "\n";
    return absl::IsInvalidArgument(server.status()) ? kExitConfigError : 1;
  }
  stop_on_signal.Arm([&server] { (*server)->Shutdown(); });
  const absl::Status result = (*server)->Wait();
  stop_on_signal.Disarm();
  if (!result.ok()) {
    std::cerr << "shadowplane: " << result.message() << "\n";
    return 1;
  }
  LOG_EVENT(kInfo, "shadowplane stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
