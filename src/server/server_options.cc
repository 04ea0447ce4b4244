#include "server/server_options.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/loopback.h"
#include "common/status_macros.h"

namespace shadowplane::server {

namespace {

absl::Status Bad(const char* flag, const std::string& rule) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, " ", rule));
}

absl::Status AtLeast(const char* flag, int64_t value, int64_t least) {
  if (value >= least) return absl::OkStatus();
  return Bad(flag, absl::StrCat("must be at least ", least, ", got ", value));
}

absl::Status Within(const char* flag, int64_t value, int64_t low, int64_t high) {
  if (value >= low && value <= high) return absl::OkStatus();
  return Bad(flag, absl::StrCat("must be within [", low, ", ", high, "], got ", value));
}

absl::Status Positive(const char* flag, absl::Duration d) {
  if (d > absl::ZeroDuration()) return absl::OkStatus();
  return Bad(flag, absl::StrCat("must be positive, got ", absl::FormatDuration(d)));
}

absl::Status NotNegative(const char* flag, absl::Duration d) {
  if (d >= absl::ZeroDuration()) return absl::OkStatus();
  return Bad(flag, absl::StrCat("must not be negative, got ", absl::FormatDuration(d)));
}

absl::Status FiniteNotNegative(const char* flag, double v) {
  if (v >= 0 && std::isfinite(v)) return absl::OkStatus();  // false for NaN too
  return Bad(flag, "must be a finite number >= 0");
}

absl::Status NotNegative(const char* flag, double v) {
  if (v >= 0) return absl::OkStatus();  // false for NaN too
  return Bad(flag, absl::StrCat("must not be negative, got ", v));
}

}  // namespace

absl::Status ProcessSettings::Validate() const {
  if (!(time_scale > 0))
    return Bad("time_scale", absl::StrCat("must be positive, got ", time_scale));
  if (time_scale != 1.0 && time_epoch.empty()) {
    return Bad("time_epoch", "is required when --time_scale is not 1");
  }
  if (audit_retention < absl::Hours(1)) return Bad("audit_retention", "must be at least 1h");
  RETURN_IF_ERROR(CheckTransportFlags(tls, insecure, listen));
  if (!insecure && tokens_file.empty()) {
    return Bad("tokens_file",
               "is required with TLS: callers authenticate with a token or a certificate it "
               "names (--insecure, on loopback only, serves every caller)");
  }
  return NotNegative("shutdown_grace", shutdown_grace);
}

absl::Status StorageSettings::Validate() const {
  if (!database_password_file.empty()) {
    if (database_url.empty()) {
      return Bad("database_password_file",
                 "is for --database_url (the embedded database has none)");
    }
    if (MaskSecrets(database_url) != database_url) {
      return Bad("database_password_file",
                 "and a password in --database_url: give the password in one place");
    }
  }
  RETURN_IF_ERROR(AtLeast("db_pool_size", db_pool_size, 1));
  RETURN_IF_ERROR(NotNegative("reservation_view_staleness", reservation_view_staleness));
  if (telemetry_copy_format != "binary" && telemetry_copy_format != "text") {
    return Bad("telemetry_copy_format",
               absl::StrCat("must be binary or text, got '", telemetry_copy_format, "'"));
  }
  return Positive("db_check_interval", db_check_interval);
}

absl::Status ComputeSettings::Validate() const {
  if (compute_provider.empty()) return Bad("compute_provider", "must name a provider");
  RETURN_IF_ERROR(Positive("agent_call_timeout", agent_call_timeout));
  RETURN_IF_ERROR(Positive("reconcile_interval", reconcile_interval));
  RETURN_IF_ERROR(Positive("failover_check_interval", failover_check_interval));
  RETURN_IF_ERROR(NotNegative("location_recovery", location_recovery));
  if (write_lease < absl::Milliseconds(300) || write_lease > absl::Minutes(10)) {
    return Bad("write_lease", "must lie in [300ms, 10m]");
  }
  if (primary_loss_timeout < write_lease) {
    return Bad("primary_loss_timeout",
               "must be at least --write_lease (a lost primary must have stopped taking writes "
               "by itself before its shadow is promoted)");
  }
  return absl::OkStatus();
}

absl::Status TrafficSettings::Validate() const {
  if (traffic_service_name.empty()) return Bad("traffic_service_name", "must not be empty");
  return absl::OkStatus();
}

absl::Status PlacementSettings::Validate() const {
  RETURN_IF_ERROR(NotNegative("shadow_min_distance_km", shadow_min_distance_km));
  RETURN_IF_ERROR(FiniteNotNegative("nominal_requests_per_hour", nominal_requests_per_hour));
  return NotNegative("rtt_ms_per_100km", rtt_ms_per_100km);
}

absl::Status SyncSettings::Validate() const {
  RETURN_IF_ERROR(Positive("shadow_sync_interval", shadow_sync_interval));
  RETURN_IF_ERROR(Positive("sync_tick", sync_tick));
  RETURN_IF_ERROR(AtLeast("sync_concurrency", sync_concurrency, 1));
  RETURN_IF_ERROR(Positive("sync_round_timeout", sync_round_timeout));
  RETURN_IF_ERROR(Positive("sync_lease_ttl", sync_lease_ttl));
  if (!(sync_jitter >= 0 && sync_jitter < 1)) {
    return Bad("sync_jitter", absl::StrCat("must be in [0, 1), got ", sync_jitter));
  }
  return absl::OkStatus();
}

absl::Status MigrationSettings::Validate() const {
  RETURN_IF_ERROR(AtLeast("cutover_dirty_bytes", cutover_dirty_bytes, 0));
  RETURN_IF_ERROR(AtLeast("max_precopy_rounds", max_precopy_rounds, 1));
  RETURN_IF_ERROR(Positive("precopy_hold_interval", precopy_hold_interval));
  if (freeze_hold < absl::ZeroDuration() || freeze_hold > absl::Seconds(60)) {
    return Bad("freeze_hold",
               absl::StrCat("must be within [0, 60s], got ", absl::FormatDuration(freeze_hold)));
  }
  RETURN_IF_ERROR(NotNegative("observe_window", observe_window));
  RETURN_IF_ERROR(AtLeast("max_migrations", max_migrations, 1));
  RETURN_IF_ERROR(AtLeast("max_migrations_per_location", max_migrations_per_location, 1));
  RETURN_IF_ERROR(Positive("migration_step_deadline", migration_step_deadline));
  RETURN_IF_ERROR(Positive("migration_tick", migration_tick));
  if (migration_lease_ttl <= migration_tick) {
    return Bad("migration_lease_ttl", "must be longer than --migration_tick");
  }
  return absl::OkStatus();
}

absl::Status TelemetrySettings::Validate() const {
  if (access_log_retention < absl::Hours(24)) {
    return Bad("access_log_retention", absl::StrCat("must be at least 24h, got ",
                                                    absl::FormatDuration(access_log_retention)));
  }
  if (demand_retention < access_log_retention) {
    return Bad("demand_retention", "must be at least --access_log_retention");
  }
  RETURN_IF_ERROR(Positive("batch_dedup_window", batch_dedup_window));
  RETURN_IF_ERROR(AtLeast("max_batch_events", max_batch_events, 1));
  if (ingest_queue_records < max_batch_events) {
    return Bad("ingest_queue_records",
               absl::StrCat("must be at least --max_batch_events (", max_batch_events, "), got ",
                            ingest_queue_records));
  }
  RETURN_IF_ERROR(AtLeast("ingest_group_records", ingest_group_records, 1));
  RETURN_IF_ERROR(Positive("ingest_commit_deadline", ingest_commit_deadline));
  RETURN_IF_ERROR(Positive("ingest_retry_after", ingest_retry_after));
  RETURN_IF_ERROR(AtLeast("ingest_threads", ingest_threads, 1));
  RETURN_IF_ERROR(AtLeast("ingest_writers", ingest_writers, 1));
  RETURN_IF_ERROR(AtLeast("ingest_stream_in_flight", ingest_stream_in_flight, 1));
  RETURN_IF_ERROR(Positive("retention_interval", retention_interval));
  RETURN_IF_ERROR(Positive("affinity_flush_interval", affinity_flush_interval));
  RETURN_IF_ERROR(NotNegative("affinity_resolution", affinity_resolution));
  ingest::ClientIpStorage storage;
  if (!ingest::ParseClientIpStorage(client_ip_storage, &storage)) {
    return Bad("client_ip_storage",
               absl::StrCat("must be full, truncated or hashed, got \"", client_ip_storage, "\""));
  }
  if (storage == ingest::ClientIpStorage::kHashed && client_ip_hash_key_file.empty()) {
    return Bad("client_ip_hash_key_file", "is required with --client_ip_storage=hashed");
  }
  return Positive("telemetry_refresh_interval", telemetry_refresh_interval);
}

absl::Status ForecastSettings::Validate() const {
  if (forecast_history < absl::Hours(24)) {
    return Bad("forecast_history",
               absl::StrCat("must be at least 24h, got ", absl::FormatDuration(forecast_history)));
  }
  RETURN_IF_ERROR(Within("max_horizon_hours", max_horizon_hours, 1, 24 * 7 * 5));
  RETURN_IF_ERROR(AtLeast("forecast_refit_hours", forecast_refit_hours, 1));
  RETURN_IF_ERROR(Positive("forecast_interval", forecast_interval));
  RETURN_IF_ERROR(AtLeast("forecast_threads", forecast_threads, 1));
  RETURN_IF_ERROR(Positive("forecast_deadline", forecast_deadline));
  if (forecast_retention < absl::Hours(1)) {
    return Bad("forecast_retention",
               absl::StrCat("must be at least 1h, got ", absl::FormatDuration(forecast_retention)));
  }
  return Within("sample_paths", sample_paths, 1, 10000);
}

absl::Status PlanningSettings::Validate() const {
  planner::PlannerMode mode;
  if (!planner::ParsePlannerMode(planner_mode, &mode)) {
    return Bad("planner_mode", absl::StrCat("must be off, recommend or auto, got ", planner_mode));
  }
  if (plan_horizon < absl::Hours(1) || plan_horizon != absl::Trunc(plan_horizon, absl::Hours(1))) {
    return Bad("plan_horizon", absl::StrCat("must be whole hours, at least 1h, got ",
                                            absl::FormatDuration(plan_horizon)));
  }
  RETURN_IF_ERROR(Positive("plan_max_forecast_age", plan_max_forecast_age));
  RETURN_IF_ERROR(Positive("plan_interval", plan_interval));
  if (decision_retention < absl::Hours(1)) {
    return Bad("decision_retention",
               absl::StrCat("must be at least 1h, got ", absl::FormatDuration(decision_retention)));
  }
  if (max_planned_moves_per_hour < 0) {
    return Bad("max_planned_moves_per_hour",
               absl::StrCat("must not be negative, got ", max_planned_moves_per_hour));
  }
  if (planner_observe_window < absl::ZeroDuration()) {
    return Bad("planner_observe_window", "must not be negative");
  }
  if (!(spot_min_discount >= 0 && spot_min_discount <= 1)) {
    return Bad("spot_min_discount", absl::StrCat("must be within [0, 1], got ", spot_min_discount));
  }
  if (spot_return_after < absl::ZeroDuration())
    return Bad("spot_return_after", "must not be negative");
  RETURN_IF_ERROR(Positive("spot_warning", spot_warning));
  if (planner_threads < 1 || planner_threads > 64) {
    return Bad("planner_threads", absl::StrCat("must be within [1, 64], got ", planner_threads));
  }
  RETURN_IF_ERROR(FiniteNotNegative("latency_price_per_request_ms", latency_price_per_request_ms));
  RETURN_IF_ERROR(FiniteNotNegative("delayed_request_price", delayed_request_price));
  RETURN_IF_ERROR(Positive("affinity_session", affinity_session));
  RETURN_IF_ERROR(FiniteNotNegative("disrupted_session_price", disrupted_session_price));
  if (!(std::isfinite(default_sync_bandwidth_mib) && default_sync_bandwidth_mib > 0)) {
    return Bad("default_sync_bandwidth_mib",
               absl::StrCat("must be a positive number, got ", default_sync_bandwidth_mib));
  }
  if (!(std::isfinite(precopy_safety) && precopy_safety >= 1 && precopy_safety <= 100)) {
    return Bad("precopy_safety", absl::StrCat("must be within [1, 100], got ", precopy_safety));
  }
  // The rest share the planner's own checks; its field names are the flags' names.
  return Defaults().Validate("--");
}

planner::PlannerSettings PlanningSettings::Defaults() const {
  planner::PlannerSettings s;
  planner::ParsePlannerMode(planner_mode, &s.mode);
  s.migration_threshold = migration_threshold;
  s.horizon = plan_horizon;
  s.anti_flapping.min_dwell = min_dwell;
  s.anti_flapping.max_moves_per_day = max_moves_per_day;
  s.anti_flapping.hysteresis_relative = hysteresis_relative;
  s.anti_flapping.hysteresis_absolute = hysteresis_absolute;
  s.anti_flapping.return_cooldown = return_cooldown;
  s.anti_flapping.return_saving_multiple = return_saving_multiple;
  return s;
}

planner::PlanPrices PlanningSettings::Prices() const {
  planner::PlanPrices p;
  p.latency_price_per_request_ms = latency_price_per_request_ms;
  p.delayed_request_price = delayed_request_price;
  p.disrupted_session_price = disrupted_session_price;
  return p;
}

absl::Status ServerOptions::Validate() const {
  RETURN_IF_ERROR(process.Validate());
  RETURN_IF_ERROR(storage.Validate());
  RETURN_IF_ERROR(compute.Validate());
  RETURN_IF_ERROR(traffic.Validate());
  RETURN_IF_ERROR(placement.Validate());
  RETURN_IF_ERROR(sync.Validate());
  RETURN_IF_ERROR(migration.Validate());
  RETURN_IF_ERROR(telemetry.Validate());
  RETURN_IF_ERROR(forecast.Validate());
  RETURN_IF_ERROR(planning.Validate());
  if (planning.plan_horizon > absl::Hours(forecast.max_horizon_hours)) {
    return Bad("plan_horizon", absl::StrCat("must be at most the forecast horizon, ",
                                            forecast.max_horizon_hours, "h (--max_horizon_hours)"));
  }
  // A forecast is recomputed only once --forecast_refit_hours new hours arrived: with a shorter
  // age limit the planner would find every forecast stale for part of each refit interval.
  if (planning.plan_max_forecast_age < absl::Hours(forecast.forecast_refit_hours)) {
    return Bad("plan_max_forecast_age",
               absl::StrCat("must be at least the refit interval, ", forecast.forecast_refit_hours,
                            "h (--forecast_refit_hours), got ",
                            absl::FormatDuration(planning.plan_max_forecast_age)));
  }
  // Each ingest writer holds a connection; the API needs at least one more.
  if (telemetry.ingest_writers >= storage.db_pool_size) {
    return Bad("ingest_writers",
               absl::StrCat("must be below --db_pool_size (", storage.db_pool_size, "), got ",
                            telemetry.ingest_writers));
  }
  return absl::OkStatus();
}

}  // namespace shadowplane::server
