// The shadowplane control-plane process, wired from its options: clock, metrics endpoint,
// database (embedded or external) with its supervisor, and the gRPC server with health,
// reflection, per-RPC metrics and the public services.
//
// Start() returns once the gRPC and metrics ports are bound (the database may still be coming up:
// health says NOT_SERVING until it is ready). Shutdown() may be called from any thread, e.g. a
// signal handler thread; Wait() then stops accepting calls, lets in-flight calls finish within
// `shutdown_grace`, and stops everything the process started, the embedded database last.
#ifndef SHADOWPLANE_SERVER_SHADOWPLANE_SERVER_H_
#define SHADOWPLANE_SERVER_SHADOWPLANE_SERVER_H_

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace shadowplane::server {

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";
  std::string metrics_listen = "127.0.0.1:9464";
  // Empty: start the embedded PostgreSQL under data_dir.
  std::string database_url;
  std::string data_dir;
  std::string db_system_user = "shadowplane";
  std::string postgres_bin_dir = "/usr/lib/postgresql/15/bin";
  int db_pool_size = 8;
  absl::Duration db_check_interval = absl::Seconds(2);
  // Empty: the migrations compiled into the binary.
  std::string migrations_dir;
  double time_scale = 1.0;
  std::string time_epoch;
  absl::Duration shutdown_grace = absl::Seconds(10);
  // Which compute provider runs instances ("local": shadowplane-agents), its per-call deadline,
  // and how often instances are reconciled with the database (orphans stopped).
  std::string compute_provider = "local";
  absl::Duration agent_call_timeout = absl::Seconds(15);
  absl::Duration reconcile_interval = absl::Seconds(30);
  // Which traffic provider steers reservations' clients ("rfc2136", "haproxy"; empty: none), the
  // service name a reservation gets when it names none ("{name}": the resource's name), and the
  // provider's settings by flag name (dns_server, dns_zone, dns_tsig_key_name,
  // dns_tsig_secret_file, dns_ttl, dns_prepare_ttl, dns_drain_margin, haproxy_socket,
  // haproxy_slot, haproxy_state_file, haproxy_drain); empty values are left out.
  std::string traffic_provider;
  std::string traffic_service_name = "{name}";
  std::map<std::string, std::string> traffic_settings;
  // Declarative regions and locations applied at start-up (see src/catalog/catalog.h); optional.
  std::string locations_file;
  // Placement: how far the shadow must be from the primary, what a millisecond of client RTT
  // costs per hour, and the RTT estimate per 100 km.
  double shadow_min_distance_km = 500;
  double latency_cost_per_ms_hour = 0.0005;
  double rtt_ms_per_100km = 1.0;
  // Shadow sync: the default interval between rounds (domain time; reservations may set their
  // own), how often the scheduler looks for due shadows (real time), rounds at once, the
  // longest a round may take, the scheduler lease's lifetime and the interval jitter.
  absl::Duration shadow_sync_interval = absl::Seconds(60);
  absl::Duration sync_tick = absl::Seconds(1);
  int sync_concurrency = 4;
  absl::Duration sync_round_timeout = absl::Minutes(30);
  absl::Duration sync_lease_ttl = absl::Seconds(15);
  double sync_jitter = 0.1;
  // Migrations (migration/migrator.h, migration/migration_driver.h).
  int64_t cutover_dirty_bytes = 8 << 20;
  int max_precopy_rounds = 10;
  absl::Duration freeze_hold = absl::ZeroDuration();  // 0: from the freeze model
  absl::Duration observe_window = absl::Hours(6);
  int max_migrations = 4;
  int max_migrations_per_location = 2;
  absl::Duration migration_step_deadline = absl::Minutes(10);
  absl::Duration migration_tick = absl::Milliseconds(500);
  absl::Duration migration_lease_ttl = absl::Seconds(15);
  // Telemetry: the optional MaxMind database of client origins and the field holding the region;
  // how long raw events (and samples, affinity) and hourly demand are kept; how long batch ids
  // are remembered for deduplication; the largest batch; the ingest queue's bound, the records
  // committed together, how long a commit is retried, the retry hint when full; validation
  // threads; unanswered batches per stream; how often upkeep, affinity flushes and reloads of
  // resources and client networks run.
  std::string geoip_db;
  std::string geoip_field = "region";
  absl::Duration access_log_retention = absl::Hours(24 * 30);
  absl::Duration demand_retention = absl::Hours(24 * 400);
  absl::Duration batch_dedup_window = absl::Hours(24);
  int max_batch_events = 10'000;
  int ingest_queue_records = 50'000;
  int ingest_group_records = 25'000;
  absl::Duration ingest_commit_deadline = absl::Seconds(30);
  absl::Duration ingest_retry_after = absl::Seconds(1);
  int ingest_threads = 2;
  int ingest_writers = 2;
  int ingest_stream_in_flight = 16;
  absl::Duration retention_interval = absl::Minutes(10);
  absl::Duration affinity_flush_interval = absl::Seconds(5);
  absl::Duration affinity_resolution = absl::Minutes(1);
  absl::Duration telemetry_refresh_interval = absl::Seconds(30);
  // Forecasting: the history fitted to, the longest horizon Predict serves, new hours that make a
  // resource due a refit, how often the refresher looks (real time), threads it computes on, how
  // long one resource's computation may take, and how long stored forecasts are kept.
  absl::Duration forecast_history = absl::Hours(24 * 7 * 8);
  int max_horizon_hours = 168;
  int forecast_refit_hours = 6;
  absl::Duration forecast_interval = absl::Minutes(5);
  int forecast_threads = 1;
  absl::Duration forecast_deadline = absl::Seconds(30);
  absl::Duration forecast_retention = absl::Hours(24 * 90);
  // Joint sample paths kept per resource (and the most Predict returns).
  int sample_paths = 200;
};

class ShadowplaneServer {
 public:
  // INVALID_ARGUMENT for bad options, FAILED_PRECONDITION when a port cannot be bound or the
  // data directory is unusable (the message says which and why).
  static absl::StatusOr<std::unique_ptr<ShadowplaneServer>> Start(const ServerOptions& options);
  ~ShadowplaneServer();

  // Asks Wait() to shut down. Thread-safe, idempotent.
  void Shutdown();
  // Blocks until Shutdown() or a fatal error, then shuts down gracefully. OK after a requested
  // shutdown; the fatal error otherwise.
  absl::Status Wait();

  int grpc_port() const;
  int metrics_port() const;

  class Impl;

 private:
  explicit ShadowplaneServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_SHADOWPLANE_SERVER_H_
