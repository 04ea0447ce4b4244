// ServerOptions: the defaults are valid, and each rule refuses a bad value naming its flag.
#include "server/server_options.h"

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace shadowplane::server {
namespace {

// Plaintext; the defaults otherwise.
ServerOptions Insecure() {
  ServerOptions o;
  o.process.insecure = true;
  return o;
}

// The defaults serve TLS and authenticate callers, so they need the files that say how: refused
// without them, valid with them (or with --insecure on the default loopback address).
TEST(ServerOptionsTest, TheDefaultsAreValidOnceTlsOrInsecureIsSaid) {
  absl::Status s = ServerOptions().Validate();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("give --tls_cert, --tls_key and --tls_ca"), std::string::npos) << s;
  ServerOptions tls;
  tls.process.tls.cert = "/etc/shadowplane/server.pem";
  tls.process.tls.key = "/etc/shadowplane/server.key";
  tls.process.tls.ca = "/etc/shadowplane/ca.pem";
  s = tls.Validate();
  EXPECT_NE(s.message().find("tokens_file is required with TLS"), std::string::npos) << s;
  tls.process.tokens_file = "/etc/shadowplane/tokens.yaml";
  s = tls.Validate();
  EXPECT_TRUE(s.ok()) << s;
  tls.process.listen = "0.0.0.0:50051";
  EXPECT_TRUE(tls.Validate().ok());
  s = Insecure().Validate();
  EXPECT_TRUE(s.ok()) << s;
}

TEST(ServerOptionsTest, EachRuleNamesItsFlag) {
  struct Case {
    std::function<void(ServerOptions&)> change;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[](ServerOptions& o) { o.process.time_scale = 60; }, "time_epoch is required"},
      {[](ServerOptions& o) { o.process.time_scale = -1; }, "time_scale"},
      {[](ServerOptions& o) { o.process.listen = "0.0.0.0:50051"; },
       "--insecure is for loopback only: --listen=0.0.0.0:50051"},
      {[](ServerOptions& o) {
         o.process.listen = "[::]:50051";
         o.process.tokens_file = "/etc/shadowplane/tokens.yaml";
       },
       "--insecure is for loopback only"},
      {[](ServerOptions& o) { o.process.tls.cert = "/etc/shadowplane/server.pem"; },
       "--insecure serves plaintext"},
      {[](ServerOptions& o) { o.process.shutdown_grace = absl::Seconds(-1); }, "--shutdown_grace"},
      {[](ServerOptions& o) { o.storage.db_pool_size = 0; }, "--db_pool_size must be at least 1"},
      {[](ServerOptions& o) { o.storage.db_check_interval = absl::ZeroDuration(); },
       "--db_check_interval must be positive"},
      {[](ServerOptions& o) { o.compute.compute_provider = ""; }, "--compute_provider"},
      {[](ServerOptions& o) { o.compute.agent_call_timeout = absl::ZeroDuration(); },
       "--agent_call_timeout"},
      {[](ServerOptions& o) { o.compute.reconcile_interval = absl::ZeroDuration(); },
       "--reconcile_interval"},
      {[](ServerOptions& o) { o.traffic.traffic_service_name = ""; }, "--traffic_service_name"},
      {[](ServerOptions& o) { o.placement.shadow_min_distance_km = -1; },
       "--shadow_min_distance_km must not be negative"},
      {[](ServerOptions& o) { o.placement.nominal_requests_per_hour = std::nan(""); },
       "--nominal_requests_per_hour"},
      {[](ServerOptions& o) { o.placement.rtt_ms_per_100km = -0.5; }, "--rtt_ms_per_100km"},
      {[](ServerOptions& o) { o.planning.planner_mode = "sometimes"; }, "--planner_mode"},
      {[](ServerOptions& o) { o.planning.migration_threshold = std::nan(""); },
       "--migration_threshold"},
      {[](ServerOptions& o) { o.planning.migration_threshold = 1.2; }, "--migration_threshold"},
      {[](ServerOptions& o) { o.planning.plan_horizon = absl::Minutes(90); }, "--plan_horizon"},
      {[](ServerOptions& o) { o.planning.plan_horizon = absl::Hours(1000); }, "--plan_horizon"},
      {[](ServerOptions& o) { o.planning.min_dwell = -absl::Hours(1); }, "--min_dwell"},
      {[](ServerOptions& o) { o.planning.max_moves_per_day = -1; }, "--max_moves_per_day"},
      {[](ServerOptions& o) { o.planning.hysteresis_relative = -0.1; }, "--hysteresis_relative"},
      {[](ServerOptions& o) { o.planning.return_saving_multiple = std::nan(""); },
       "--return_saving_multiple"},
      {[](ServerOptions& o) { o.planning.latency_price_per_request_ms = -1; },
       "--latency_price_per_request_ms"},
      {[](ServerOptions& o) { o.planning.delayed_request_price = INFINITY; },
       "--delayed_request_price"},
      {[](ServerOptions& o) { o.planning.plan_max_forecast_age = absl::ZeroDuration(); },
       "--plan_max_forecast_age"},
      {[](ServerOptions& o) { o.planning.plan_interval = absl::ZeroDuration(); },
       "--plan_interval"},
      {[](ServerOptions& o) { o.planning.decision_retention = absl::Minutes(30); },
       "--decision_retention"},
      {[](ServerOptions& o) { o.planning.max_planned_moves_per_hour = -1; },
       "--max_planned_moves_per_hour"},
      {[](ServerOptions& o) { o.planning.planner_threads = 0; }, "--planner_threads"},
      {[](ServerOptions& o) { o.planning.planner_threads = 65; }, "--planner_threads"},
      {[](ServerOptions& o) { o.planning.planner_observe_window = -absl::Seconds(1); },
       "--planner_observe_window"},
      {[](ServerOptions& o) { o.planning.affinity_session = -absl::Minutes(1); },
       "--affinity_session"},
      {[](ServerOptions& o) { o.planning.affinity_session = absl::ZeroDuration(); },
       "--affinity_session"},
      {[](ServerOptions& o) { o.planning.disrupted_session_price = std::nan(""); },
       "--disrupted_session_price"},
      {[](ServerOptions& o) { o.planning.disrupted_session_price = -0.01; },
       "--disrupted_session_price"},
      {[](ServerOptions& o) { o.planning.default_sync_bandwidth_mib = 0; },
       "--default_sync_bandwidth_mib"},
      {[](ServerOptions& o) { o.planning.default_sync_bandwidth_mib = std::nan(""); },
       "--default_sync_bandwidth_mib"},
      {[](ServerOptions& o) { o.planning.precopy_safety = 0.5; }, "--precopy_safety"},
      {[](ServerOptions& o) { o.planning.precopy_safety = std::nan(""); }, "--precopy_safety"},
      {[](ServerOptions& o) { o.migration.precopy_hold_interval = absl::ZeroDuration(); },
       "--precopy_hold_interval"},
      {[](ServerOptions& o) { o.sync.shadow_sync_interval = absl::ZeroDuration(); },
       "--shadow_sync_interval"},
      {[](ServerOptions& o) { o.sync.sync_tick = absl::ZeroDuration(); }, "--sync_tick"},
      {[](ServerOptions& o) { o.sync.sync_concurrency = 0; }, "--sync_concurrency"},
      {[](ServerOptions& o) { o.sync.sync_round_timeout = absl::ZeroDuration(); },
       "--sync_round_timeout"},
      {[](ServerOptions& o) { o.sync.sync_lease_ttl = absl::ZeroDuration(); }, "--sync_lease_ttl"},
      {[](ServerOptions& o) { o.sync.sync_jitter = 1; }, "--sync_jitter must be in [0, 1)"},
      {[](ServerOptions& o) { o.migration.cutover_dirty_bytes = -1; }, "--cutover_dirty_bytes"},
      {[](ServerOptions& o) { o.migration.max_precopy_rounds = 0; }, "--max_precopy_rounds"},
      {[](ServerOptions& o) { o.migration.freeze_hold = absl::Seconds(61); },
       "--freeze_hold must be within [0, 60s]"},
      {[](ServerOptions& o) { o.migration.observe_window = absl::Seconds(-1); },
       "--observe_window"},
      {[](ServerOptions& o) { o.migration.max_migrations = 0; }, "--max_migrations must"},
      {[](ServerOptions& o) { o.migration.max_migrations_per_location = 0; },
       "--max_migrations_per_location"},
      {[](ServerOptions& o) { o.migration.migration_step_deadline = absl::ZeroDuration(); },
       "--migration_step_deadline"},
      {[](ServerOptions& o) { o.migration.migration_tick = absl::ZeroDuration(); },
       "--migration_tick"},
      {[](ServerOptions& o) { o.migration.migration_lease_ttl = absl::Milliseconds(500); },
       "--migration_lease_ttl must be longer than --migration_tick"},
      {[](ServerOptions& o) { o.telemetry.access_log_retention = absl::Hours(1); },
       "--access_log_retention must be at least 24h"},
      {[](ServerOptions& o) { o.telemetry.demand_retention = absl::Hours(25); },
       "--demand_retention must be at least --access_log_retention"},
      {[](ServerOptions& o) { o.telemetry.batch_dedup_window = absl::ZeroDuration(); },
       "--batch_dedup_window"},
      {[](ServerOptions& o) { o.telemetry.max_batch_events = 0; }, "--max_batch_events"},
      {[](ServerOptions& o) { o.telemetry.ingest_queue_records = 10; },
       "--ingest_queue_records must be at least --max_batch_events"},
      {[](ServerOptions& o) { o.telemetry.ingest_group_records = 0; }, "--ingest_group_records"},
      {[](ServerOptions& o) { o.telemetry.ingest_commit_deadline = absl::ZeroDuration(); },
       "--ingest_commit_deadline"},
      {[](ServerOptions& o) { o.telemetry.ingest_retry_after = absl::ZeroDuration(); },
       "--ingest_retry_after"},
      {[](ServerOptions& o) { o.telemetry.ingest_threads = 0; }, "--ingest_threads"},
      {[](ServerOptions& o) { o.telemetry.ingest_writers = 0; }, "--ingest_writers must"},
      {[](ServerOptions& o) { o.telemetry.ingest_writers = 8; },
       "--ingest_writers must be below --db_pool_size"},
      {[](ServerOptions& o) { o.telemetry.ingest_stream_in_flight = 0; },
       "--ingest_stream_in_flight"},
      {[](ServerOptions& o) { o.telemetry.retention_interval = absl::ZeroDuration(); },
       "--retention_interval"},
      {[](ServerOptions& o) { o.telemetry.affinity_flush_interval = absl::ZeroDuration(); },
       "--affinity_flush_interval"},
      {[](ServerOptions& o) { o.telemetry.affinity_resolution = absl::Seconds(-1); },
       "--affinity_resolution"},
      {[](ServerOptions& o) { o.telemetry.telemetry_refresh_interval = absl::ZeroDuration(); },
       "--telemetry_refresh_interval"},
      {[](ServerOptions& o) { o.telemetry.client_ip_storage = "anonymous"; },
       "--client_ip_storage"},
      {[](ServerOptions& o) { o.telemetry.client_ip_storage = "hashed"; },
       "--client_ip_hash_key_file"},
      {[](ServerOptions& o) { o.forecast.forecast_history = absl::Hours(2); },
       "--forecast_history must be at least 24h"},
      {[](ServerOptions& o) { o.forecast.max_horizon_hours = 0; },
       "--max_horizon_hours must be within [1, 840]"},
      {[](ServerOptions& o) { o.forecast.forecast_refit_hours = 0; }, "--forecast_refit_hours"},
      {[](ServerOptions& o) { o.forecast.forecast_interval = absl::ZeroDuration(); },
       "--forecast_interval"},
      {[](ServerOptions& o) { o.forecast.forecast_threads = 0; }, "--forecast_threads"},
      {[](ServerOptions& o) { o.forecast.forecast_deadline = absl::ZeroDuration(); },
       "--forecast_deadline"},
      {[](ServerOptions& o) { o.forecast.forecast_retention = absl::Minutes(5); },
       "--forecast_retention must be at least 1h"},
      {[](ServerOptions& o) { o.forecast.sample_paths = 10001; },
       "--sample_paths must be within [1, 10000]"},
      {[](ServerOptions& o) { o.planning.plan_max_forecast_age = absl::Hours(2); },
       "--plan_max_forecast_age must be at least the refit interval, 6h"},
  };
  for (const Case& c : cases) {
    ServerOptions options = Insecure();
    c.change(options);
    const absl::Status s = options.Validate();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.expected << ": " << s;
    EXPECT_NE(s.message().find(c.expected), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace shadowplane::server
