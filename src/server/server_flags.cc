#include "server/server_flags.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "store/embedded_postgres.h"

namespace {

using shadowplane::server::ServerOptions;

const ServerOptions& Defaults() {
  static const ServerOptions* const kDefaults = new ServerOptions();
  return *kDefaults;
}

using Binding = std::function<void(ServerOptions&)>;

std::vector<Binding>& Bindings() {
  static auto* const kBindings = new std::vector<Binding>();
  return *kBindings;
}

struct Bind {
  explicit Bind(Binding binding) { Bindings().push_back(std::move(binding)); }
};

}  // namespace

// A setting: the flag `name` of `type`, with the default of ServerOptions' `field`, copied there.
#define SP_SETTING(type, name, field, help)      \
  ABSL_FLAG(type, name, Defaults().field, help); \
  static const Bind kBind_##name([](ServerOptions& o) { o.field = absl::GetFlag(FLAGS_##name); })

// A traffic provider's setting: passed to the provider by name when set.
#define SP_PROVIDER_SETTING(name, help)                            \
  ABSL_FLAG(std::string, name, "", help);                          \
  static const Bind kBind_##name([](ServerOptions& o) {            \
    if (std::string v = absl::GetFlag(FLAGS_##name); !v.empty()) { \
      o.traffic.provider_settings[#name] = std::move(v);           \
    }                                                              \
  })

SP_SETTING(std::string, listen, process.listen, "gRPC listen address, host:port");
SP_SETTING(std::string, metrics_listen, process.metrics_listen,
           "Prometheus /metrics listen address, host:port");
SP_SETTING(std::string, tokens_file, process.tokens_file,
           "Callers' bearer tokens and certificate names (SHA-256 hashes or names, with role and "
           "team; not readable by others; re-read when it changes). Required with TLS; with "
           "--insecure, empty means calls are not authenticated");
SP_SETTING(absl::Duration, audit_retention, process.audit_retention,
           "How long the audit trail's rows are kept");
SP_SETTING(std::string, tls_cert, process.tls.cert,
           "PEM certificate of this server (SAN control-plane.shadowplane); also its client "
           "certificate towards the agents. Reloaded when it changes");
SP_SETTING(std::string, tls_key, process.tls.key,
           "PEM private key of --tls_cert (not readable by others)");
SP_SETTING(std::string, tls_ca, process.tls.ca,
           "PEM CA bundle that agents' and callers' certificates must chain to");
SP_SETTING(absl::Duration, tls_reload_interval, process.tls.reload_interval,
           "How often the TLS files are checked for changes");
SP_SETTING(bool, insecure, process.insecure,
           "Serve and call plaintext gRPC instead of TLS: loopback --listen only, and without "
           "--tokens_file every caller is allowed");
SP_SETTING(bool, reflection, process.reflection,
           "Serve gRPC server reflection (grpcurl describes the API through it)");
SP_SETTING(std::string, database_url, storage.database_url,
           "PostgreSQL connection string or URL; empty starts a private embedded cluster under "
           "--data_dir");
SP_SETTING(std::string, database_password_file, storage.database_password_file,
           "A file holding --database_url's password (not readable by others); passwords are "
           "refused on the command line");
SP_SETTING(std::string, data_dir, storage.data_dir,
           "Directory of the embedded PostgreSQL cluster; default /var/lib/shadowplane for root, "
           "else $XDG_DATA_HOME/shadowplane or ~/.local/share/shadowplane");
SP_SETTING(std::string, db_system_user, storage.db_system_user,
           "When running as root: the system user that runs the embedded PostgreSQL");
SP_SETTING(std::string, postgres_bin_dir, storage.postgres_bin_dir,
           "Where initdb, pg_ctl and postgres are");
SP_SETTING(int, db_pool_size, storage.db_pool_size, "Most database connections to open");
SP_SETTING(absl::Duration, db_check_interval, storage.db_check_interval,
           "How often to check that the database is still reachable");
SP_SETTING(std::string, telemetry_copy_format, storage.telemetry_copy_format,
           "How telemetry rows are sent to PostgreSQL: binary (COPY in binary format, the "
           "fastest) or text");
SP_SETTING(absl::Duration, reservation_view_staleness, storage.reservation_view_staleness,
           "How far behind the database a GetReservation answered from memory may be (changes "
           "from other replicas are seen within it; this replica's own at once); 0 reads the "
           "database every time");
SP_SETTING(std::string, migrations_dir, storage.migrations_dir,
           "Read schema migrations from this directory instead of those built in");
SP_SETTING(double, time_scale, process.time_scale,
           "Domain seconds per real second (demos run faster than real time); not 1 needs "
           "--time_epoch");
SP_SETTING(std::string, time_epoch, process.time_epoch,
           "RFC 3339 instant where domain time equals real time; shared by every process of a "
           "deployment");
SP_SETTING(absl::Duration, shutdown_grace, process.shutdown_grace,
           "On SIGINT/SIGTERM, how long in-flight calls may take before they are cancelled");
SP_SETTING(std::string, compute_provider, compute.compute_provider,
           "Compute provider that runs instances: local (shadowplane-agent per location)");
SP_SETTING(absl::Duration, agent_call_timeout, compute.agent_call_timeout,
           "Deadline of one call to a location's agent");
SP_SETTING(absl::Duration, reconcile_interval, compute.reconcile_interval,
           "How often instances are reconciled with the database (orphans stopped)");
SP_SETTING(absl::Duration, write_lease, compute.write_lease,
           "How long a read-write instance may take writes without hearing from the control plane "
           "(its agent renews it every third of it); an emergency promotion waits out the old "
           "primary's lease unless it is confirmed stopped");
SP_SETTING(absl::Duration, primary_loss_timeout, compute.primary_loss_timeout,
           "A primary whose write lease went unrenewed this long is lost: its healthy shadow is "
           "promoted by itself (at least --write_lease)");
SP_SETTING(absl::Duration, failover_check_interval, compute.failover_check_interval,
           "How often primaries are checked for loss");
SP_SETTING(bool, auto_failover, compute.auto_failover,
           "Promote the shadow of a lost primary by itself (false: only report the loss)");
SP_SETTING(absl::Duration, location_recovery, compute.location_recovery,
           "A location lost (agent and every instance unreachable for --primary_loss_timeout) "
           "takes nothing new until it has answered this long without a break");
SP_SETTING(std::string, traffic_provider, traffic.traffic_provider,
           "Traffic provider that steers reservations' clients to their primary: rfc2136 (dynamic "
           "DNS), haproxy (HAProxy runtime API), or empty (none)");
SP_SETTING(std::string, traffic_service_name, traffic.traffic_service_name,
           "A reservation's service name when it names none; {name} is the resource's name (DNS: "
           "relative to --dns_zone)");
SP_PROVIDER_SETTING(dns_server, "rfc2136: the authoritative DNS server taking updates, IP:port");
SP_PROVIDER_SETTING(dns_zone, "rfc2136: the zone service names live in, e.g. svc.example.");
SP_PROVIDER_SETTING(dns_tsig_key_name, "rfc2136: the TSIG key's name (hmac-sha256)");
SP_PROVIDER_SETTING(dns_tsig_secret_file, "rfc2136: a file holding the TSIG key's base64 secret");
SP_PROVIDER_SETTING(dns_ttl, "rfc2136: the TTL of managed names (default 30s)");
SP_PROVIDER_SETTING(dns_prepare_ttl, "rfc2136: the TTL a name gets ahead of a switch (default 5s)");
SP_PROVIDER_SETTING(
    dns_drain_margin,
    "rfc2136: how long past the TTL the old primary forwards writes after a switch (default 10s)");
SP_PROVIDER_SETTING(haproxy_socket, "haproxy: HAProxy's stats socket (level admin)");
SP_PROVIDER_SETTING(
    haproxy_slot, "haproxy: the server slot in each backend that names the primary (default live)");
SP_PROVIDER_SETTING(
    haproxy_state_file,
    "haproxy: HAProxy's server-state-file, rewritten after every change so reloads keep it");
SP_PROVIDER_SETTING(
    haproxy_drain,
    "haproxy: how long connections to the old primary may last after a switch (default 30s)");
SP_SETTING(std::string, locations_file, compute.locations_file,
           "YAML file of regions and locations applied at start-up (the file wins over rows it "
           "names)");
SP_SETTING(double, shadow_min_distance_km, placement.shadow_min_distance_km,
           "A shadow must be at least this far from its primary, and in another region");
SP_SETTING(double, nominal_requests_per_hour, placement.nominal_requests_per_hour,
           "Placement prices a new resource's latency as if it had this many requests an hour, "
           "spread over its expected client regions (at --latency_price_per_request_ms)");
SP_SETTING(double, rtt_ms_per_100km, placement.rtt_ms_per_100km,
           "RTT estimate per 100 km of distance, where no measured RTT is given");
SP_SETTING(absl::Duration, shadow_sync_interval, sync.shadow_sync_interval,
           "Default time between a shadow's sync rounds, in domain time (a reservation may set "
           "its own)");
SP_SETTING(absl::Duration, sync_tick, sync.sync_tick,
           "How often the sync scheduler looks for shadows that are due");
SP_SETTING(int, sync_concurrency, sync.sync_concurrency,
           "Sync rounds run at once (scheduled and SyncNow each)");
SP_SETTING(absl::Duration, sync_round_timeout, sync.sync_round_timeout,
           "Longest a sync round may take");
SP_SETTING(absl::Duration, sync_lease_ttl, sync.sync_lease_ttl,
           "Lifetime of the sync scheduler's lease: how soon another replica takes over");
SP_SETTING(double, sync_jitter, sync.sync_jitter,
           "Sync intervals vary randomly by up to this fraction");
SP_SETTING(int64_t, cutover_dirty_bytes, migration.cutover_dirty_bytes,
           "Migrations: pre-copy ends when a round leaves at most this many bytes changed");
SP_SETTING(absl::Duration, precopy_hold_interval, migration.precopy_hold_interval,
           "A move timed to cut over later keeps the target current with a round this often "
           "(real time) until its cutover time");
SP_SETTING(int, max_precopy_rounds, migration.max_precopy_rounds,
           "Migrations: pre-copy rounds at most before the cutover");
SP_SETTING(absl::Duration, freeze_hold, migration.freeze_hold,
           "Migrations: how long the old primary holds a write during the cutover's freeze "
           "(0: twice the freeze model's high estimate, within [5s, 60s])");
SP_SETTING(absl::Duration, observe_window, migration.observe_window,
           "Migrations: how long realised demand is watched after a move");
SP_SETTING(int, max_migrations, migration.max_migrations,
           "Migrations at work at once across all locations");
SP_SETTING(int, max_migrations_per_location, migration.max_migrations_per_location,
           "Migrations at work at once into one location");
SP_SETTING(absl::Duration, migration_step_deadline, migration.migration_step_deadline,
           "Migrations: how long a step retries before the migration rolls back (before its "
           "traffic switch; after it, steps retry until they succeed)");
SP_SETTING(absl::Duration, migration_tick, migration.migration_tick,
           "Migrations: how often leases are claimed and renewed");
SP_SETTING(absl::Duration, migration_lease_ttl, migration.migration_lease_ttl,
           "Migrations: lease lifetime, how soon another server resumes a dead one's migration");
SP_SETTING(std::string, geoip_db, telemetry.geoip_db,
           "MaxMind-format database (.mmdb) of client networks -> origin regions, consulted after "
           "the CIDR table; empty: none");
SP_SETTING(std::string, geoip_field, telemetry.geoip_field,
           "Path of the region name in the GeoIP database's records, dot-separated");
SP_SETTING(absl::Duration, access_log_retention, telemetry.access_log_retention,
           "How long raw access events, utilization samples and affinity are kept (whole days)");
SP_SETTING(absl::Duration, demand_retention, telemetry.demand_retention,
           "How long hourly demand rollups are kept; older events are refused");
SP_SETTING(absl::Duration, batch_dedup_window, telemetry.batch_dedup_window,
           "How long a committed batch id is remembered, so that its retry is not stored twice");
SP_SETTING(int, max_batch_events, telemetry.max_batch_events,
           "Most events plus samples in one telemetry batch");
SP_SETTING(int, ingest_queue_records, telemetry.ingest_queue_records,
           "Events and samples waiting for the database at most; beyond, RESOURCE_EXHAUSTED");
SP_SETTING(int, ingest_group_records, telemetry.ingest_group_records,
           "Most records committed in one transaction");
SP_SETTING(absl::Duration, ingest_commit_deadline, telemetry.ingest_commit_deadline,
           "How long a telemetry commit is retried while the database is unreachable");
SP_SETTING(absl::Duration, ingest_retry_after, telemetry.ingest_retry_after,
           "Retry hint given to senders when the ingest queue is full");
SP_SETTING(int, ingest_threads, telemetry.ingest_threads, "Threads validating telemetry batches");
SP_SETTING(int, ingest_writers, telemetry.ingest_writers,
           "Telemetry groups committed at once, each on its own database connection");
SP_SETTING(int, ingest_stream_in_flight, telemetry.ingest_stream_in_flight,
           "Unanswered batches per RecordAccess stream before the server stops reading it");
SP_SETTING(absl::Duration, retention_interval, telemetry.retention_interval,
           "How often telemetry partitions are created ahead and old data dropped");
SP_SETTING(absl::Duration, affinity_flush_interval, telemetry.affinity_flush_interval,
           "How often coalesced client affinity updates are written");
SP_SETTING(absl::Duration, affinity_resolution, telemetry.affinity_resolution,
           "A client's affinity row is rewritten for the same instance only when it was seen this "
           "much later (domain time)");
SP_SETTING(absl::Duration, telemetry_refresh_interval, telemetry.telemetry_refresh_interval,
           "How often resources, regions and client networks are re-read for ingest");
SP_SETTING(std::string, client_ip_storage, telemetry.client_ip_storage,
           "What is kept of client addresses, after the origin lookup: full, truncated (IPv4 "
           "/24, IPv6 /48) or hashed (a keyed hash, stable per client: affinity and distinct "
           "counts hold)");
SP_SETTING(std::string, client_ip_hash_key_file, telemetry.client_ip_hash_key_file,
           "The secret key of --client_ip_storage=hashed (a file of at least 16 bytes)");
SP_SETTING(absl::Duration, forecast_history, forecast.forecast_history,
           "How much hourly demand history forecasts are fitted to (at least 24h)");
SP_SETTING(int, max_horizon_hours, forecast.max_horizon_hours,
           "The longest forecast horizon Predict serves, in hours");
SP_SETTING(int, forecast_refit_hours, forecast.forecast_refit_hours,
           "A resource's forecast is recomputed once this many new hours have arrived since it");
SP_SETTING(absl::Duration, forecast_interval, forecast.forecast_interval,
           "How often the forecast refresher looks for resources due a new forecast");
SP_SETTING(int, forecast_threads, forecast.forecast_threads,
           "Threads computing scheduled forecasts");
SP_SETTING(absl::Duration, forecast_deadline, forecast.forecast_deadline,
           "Longest one resource's forecast may take to compute");
SP_SETTING(absl::Duration, forecast_retention, forecast.forecast_retention,
           "How long stored forecasts are kept (to score them and cite them later)");
SP_SETTING(int, sample_paths, forecast.sample_paths,
           "Joint sample paths of demand kept per resource (1 to 10000); Predict returns at most "
           "this many");

SP_SETTING(std::string, planner_mode, planning.planner_mode,
           "The planner's default mode: off, recommend (decide and record, never act) or auto");
SP_SETTING(double, migration_threshold, planning.migration_threshold,
           "Default share of the forecast's sample paths in which a move must pay, in [0, 1]");
SP_SETTING(absl::Duration, plan_horizon, planning.plan_horizon,
           "Hours over which the planner costs locations (at most --max_horizon_hours)");
SP_SETTING(absl::Duration, min_dwell, planning.min_dwell,
           "No planned move sooner than this after a resource's last migration");
SP_SETTING(int, max_moves_per_day, planning.max_moves_per_day,
           "At most this many migrations of one resource in any 24 hours");
SP_SETTING(double, hysteresis_relative, planning.hysteresis_relative,
           "A move must beat the current location by this share of its cost (and the absolute)");
SP_SETTING(double, hysteresis_absolute, planning.hysteresis_absolute,
           "... and by at least these dollars over the horizon");
SP_SETTING(absl::Duration, return_cooldown, planning.return_cooldown,
           "No return to the location just left for this long, unless the saving is large");
SP_SETTING(double, return_saving_multiple, planning.return_saving_multiple,
           "A return within the cooldown needs a saving of this many hysteresis margins");
SP_SETTING(double, latency_price_per_request_ms, planning.latency_price_per_request_ms,
           "Dollars per request per millisecond of round-trip time");
SP_SETTING(double, delayed_request_price, planning.delayed_request_price,
           "Dollars per request held by a cutover's write freeze");
SP_SETTING(absl::Duration, plan_max_forecast_age, planning.plan_max_forecast_age,
           "A stored forecast older than this is stale: the planner does not move on it");
SP_SETTING(absl::Duration, plan_interval, planning.plan_interval,
           "Domain time between the planner's ticks (on the replica holding the planner lease)");
SP_SETTING(absl::Duration, decision_retention, planning.decision_retention,
           "Stored planner decisions older than this are deleted (at least 1h)");
SP_SETTING(int, max_planned_moves_per_hour, planning.max_planned_moves_per_hour,
           "The fleet's budget of planned migrations per hour, the planner's and location "
           "drains'; beyond it moves wait");
SP_SETTING(absl::Duration, planner_observe_window, planning.planner_observe_window,
           "How long a planner-started migration is observed before it is judged (0: the "
           "planning horizon, --plan_horizon)");
SP_SETTING(double, spot_min_discount, planning.spot_min_discount,
           "Spot is used (placed on, moved to) only where it is at least this much cheaper than "
           "on-demand, its interruption risk counted (0 to 1)");
SP_SETTING(absl::Duration, spot_return_after, planning.spot_return_after,
           "After spot at a location was gone, it must stay available this long (domain time) "
           "before the planner moves a resource back to it");
SP_SETTING(absl::Duration, spot_warning, planning.spot_warning,
           "The interruption warning assumed when a report gives no deadline (real time)");
SP_SETTING(int, planner_threads, planning.planner_threads,
           "Worker threads that decide reservations during a planner tick (1 to 64)");
SP_SETTING(absl::Duration, affinity_session, planning.affinity_session,
           "A client is affine to a resource when it was seen within this window (domain time)");
SP_SETTING(double, disrupted_session_price, planning.disrupted_session_price,
           "Dollars per affine client session a cutover disrupts (the planner prices the "
           "sessions expected at the cutover)");
SP_SETTING(double, default_sync_bandwidth_mib, planning.default_sync_bandwidth_mib,
           "MiB per second a pre-copy is estimated to move before sync rounds between the two "
           "locations were measured");
SP_SETTING(double, precopy_safety, planning.precopy_safety,
           "The pre-copy estimate is multiplied by this (at least 1) before a move is timed");

namespace shadowplane::server {

ServerOptions ServerOptionsFromFlags() {
  ServerOptions options;
  for (const Binding& bind : Bindings()) bind(options);
  if (options.storage.data_dir.empty()) {
    options.storage.data_dir = store::EmbeddedPostgres::DefaultDataDir();
  }
  return options;
}

}  // namespace shadowplane::server
