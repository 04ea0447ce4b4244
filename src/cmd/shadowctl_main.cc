// shadowctl: the command-line client of shadowplane. See shadowctl --help.

#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "cli/shadowctl.h"
#include "common/config.h"
#include "common/secret_file.h"
#include "common/transport_security.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "shadowplane's gRPC address, host:port");
ABSL_FLAG(std::string, token_file, "",
          "a file holding the caller's bearer token (not readable by others); default: the "
          "SHADOWPLANE_TOKEN environment variable, else none");
ABSL_FLAG(std::string, ca, "",
          "PEM CA that signed the server's certificate; default: SHADOWPLANE_CA, else the "
          "system's root certificates");
ABSL_FLAG(std::string, cert, "",
          "PEM client certificate, for a caller the tokens file names by certificate; default: "
          "SHADOWPLANE_CERT");
ABSL_FLAG(std::string, key, "", "PEM key of --cert; default: SHADOWPLANE_KEY");
ABSL_FLAG(std::string, tls_server_name, "control-plane.shadowplane",
          "The name the server's certificate must carry");
ABSL_FLAG(bool, insecure, false, "Speak plaintext, for a server run with --insecure (loopback)");
ABSL_FLAG(bool, json, false, "Print JSON instead of tables");
ABSL_FLAG(std::string, request_id, "", "reserve: the client-chosen id that makes retries safe");
ABSL_FLAG(std::string, name, "", "reserve: the resource's name");
ABSL_FLAG(std::string, event_name, "", "events register: the event's name");
ABSL_FLAG(int64_t, millicores, 0, "reserve, update: vCPU in millicores");
ABSL_FLAG(int64_t, memory_mib, 0, "reserve, update: memory in MiB");
ABSL_FLAG(bool, spot, false, "reserve: prefer spot capacity");
ABSL_FLAG(bool, full, false, "sync: compare every file's content, not size and mtime");
ABSL_FLAG(std::string, team, "",
          "reserve: the team it belongs to (default: the caller's; another only for an admin); "
          "reservations list: only this team's");
ABSL_FLAG(std::string, seed_dir, "", "reserve: directory whose tree becomes the resource's data");
ABSL_FLAG(std::vector<std::string>, locations, {}, "reserve: acceptable locations");
ABSL_FLAG(std::vector<std::string>, regions, {},
          "reserve: acceptable regions; events register: affected origin regions");
ABSL_FLAG(std::vector<std::string>, clients, {},
          "reserve: expected client regions with weights, region:weight,...");
ABSL_FLAG(double, shadow_fraction, -1, "reserve, update: the shadow's share of the capacity");
ABSL_FLAG(double, sync_interval, -1, "reserve, update: shadow sync interval in seconds");
ABSL_FLAG(std::string, state, "", "reservations list, migrations list: only this state");
ABSL_FLAG(std::string, location, "", "reservations list: only with an instance here");
ABSL_FLAG(std::string, region, "", "locations list, events list: only this region");
ABSL_FLAG(std::string, from, "", "demand: start, RFC 3339 (default: 48 hours before --to)");
ABSL_FLAG(std::string, to, "", "demand: end, RFC 3339 (default: now)");
ABSL_FLAG(std::string, target, "", "migrate: the target location");
ABSL_FLAG(std::string, granularity, "hour", "demand: hour or day");
ABSL_FLAG(int, horizon, 0,
          "predict: hours to forecast (0: the server's default, 48); plan: hours to cost over "
          "(0: the server's --plan_horizon)");
ABSL_FLAG(double, threshold, -1,
          "plan: the migration threshold for this dry run; reserve, reservations update: the "
          "reservation's; in [0, 1] (negative: not given)");
ABSL_FLAG(bool, refresh, false, "predict: compute the forecast now instead of the stored one");
ABSL_FLAG(std::string, kind, "", "events register, list: the event's kind (campaign, news, ...)");
ABSL_FLAG(std::string, migration_kind, "", "migrate: planned (default) or emergency");
ABSL_FLAG(std::string, start, "", "events register: window start, RFC 3339");
ABSL_FLAG(std::string, end, "", "events register: window end (exclusive), RFC 3339");
ABSL_FLAG(std::vector<std::string>, resources, {}, "events register: affected resource ids");
ABSL_FLAG(std::string, resource, "",
          "events list: only events that may affect this resource; migrations list: only its");
ABSL_FLAG(std::string, uplift, "",
          "events register: expected demand multiplier (empty: learned from past events)");
ABSL_FLAG(std::string, service_name, "",
          "reserve: where clients reach it (a DNS name or HAProxy backend; default from the "
          "server); loadgen with --dns_server: the name resolved");
ABSL_FLAG(std::string, capacity_type, "", "migrate: spot or on_demand (default: the primary's)");
ABSL_FLAG(std::string, reason, "",
          "migrate, planner pause/resume: why, recorded with the migration or the pause");
ABSL_FLAG(std::string, planner_mode, "",
          "reserve, reservations update: the planner's mode for it (off, recommend, auto)");
ABSL_FLAG(std::optional<std::string>, pin, std::nullopt,
          "reserve, reservations update: pin the resource to this location (\"\" unpins)");
ABSL_FLAG(bool, purge_telemetry, false,
          "reservations release: also delete its access log, utilization, demand and client "
          "affinity");
ABSL_FLAG(bool, reset_planner, false,
          "reservations update: drop the reservation's planner settings first");
ABSL_FLAG(std::string, outcome, "",
          "decisions list: only this outcome (stay, move, recommend, blocked, fallback)");
ABSL_FLAG(bool, watch, false, "migrate: follow the migration until it ends");
ABSL_FLAG(bool, force, false,
          "migrate --migration_kind=emergency: promote the shadow even though the primary still "
          "holds its write lease (its writes since the shadow's last round are lost)");
ABSL_FLAG(std::string, deadline, "",
          "spot interrupt: when the capacity goes away, a duration from now (default: the "
          "server's --spot_warning)");
ABSL_FLAG(std::vector<std::string>, instances, {},
          "spot interrupt: only these instance ids (default: every spot instance there)");
ABSL_FLAG(double, refresh_seconds, 2, "top: seconds between refreshes");
ABSL_FLAG(int, iterations, 0,
          "top: refreshes before it exits (0: until Ctrl-C on a terminal, one otherwise)");
ABSL_FLAG(int, top_rows, 20, "top: the busiest resources shown");
ABSL_FLAG(std::string, dns_server, "",
          "loadgen: resolve --service_name at this DNS server (IP:port on loopback), keeping each "
          "answer for its TTL, instead of sending to --endpoint");
ABSL_FLAG(int, service_port, 0, "loadgen with --dns_server: the port the service name serves on");
ABSL_FLAG(std::string, endpoint, "127.0.0.1:8080",
          "loadgen: the traffic layer's address on loopback (e.g. the HAProxy frontend)");
ABSL_FLAG(std::string, trace, "synthetic",
          "loadgen: \"synthetic\" (the pinned global trace) or a folder of <REGION>.csv files "
          "in the EIA regional demand format");
ABSL_FLAG(std::string, locations_file, "deploy/local/locations.yaml",
          "loadgen: the locations file whose networks: give each region's client addresses");
ABSL_FLAG(int, from_hour, 672, "loadgen: the trace hour the replay starts at");
ABSL_FLAG(int, hours, 24, "loadgen: trace hours replayed");
ABSL_FLAG(double, requests_per_unit, 0.05, "loadgen: requests per unit of the trace's demand");
ABSL_FLAG(double, time_scale, 1800,
          "loadgen: trace seconds per real second (1800: an hour every 2 seconds)");
ABSL_FLAG(double, write_share, 0.1, "loadgen: the share of PUTs among the requests");
ABSL_FLAG(int64_t, max_requests, 100000, "loadgen: refuse a plan of more requests than this");
ABSL_FLAG(double, max_seconds, 300, "loadgen: stop sending after this many seconds");
ABSL_FLAG(std::string, caller, "", "audit list: only this caller's calls");
ABSL_FLAG(std::string, method, "", "audit list: only this method (full name or e.g. Release)");
ABSL_FLAG(std::string, code, "", "audit list: only calls that ended with this code (e.g. OK)");
ABSL_FLAG(int, limit, 100, "audit list: at most this many rows, newest first (1-1000)");
ABSL_FLAG(std::string, report_json, "",
          "loadgen: also write the report as JSON to this file (what --json prints)");
ABSL_FLAG(int, concurrency, 16, "loadgen: requests in flight at most");
ABSL_FLAG(int, backfill, 0,
          "loadgen: instead of live traffic, send this many weeks of the trace before "
          "--from_hour as access events to --resource, ending the hour before now");
ABSL_FLAG(std::string, config, "", "YAML file of flag values");

int main(int argc, char** argv) {
  shadowplane::ConfigOptions config;
  config.program = "shadowctl";
  config.description = shadowplane::cli::ShadowctlUsage();
  config.allow_positional = true;
  if (shadowplane::WantsHelp(argc, argv)) {
    std::cout << shadowplane::HelpText(config);
    return 0;
  }
  shadowplane::LoadedConfig loaded;
  if (absl::Status s = shadowplane::LoadConfig(config, argc, argv, &loaded); !s.ok()) {
    std::cerr << "shadowctl: " << s.message() << "\n";
    return shadowplane::cli::kExitUsage;
  }
  shadowplane::cli::ShadowctlOptions options;
  options.server = absl::GetFlag(FLAGS_server);
  if (const std::string file = absl::GetFlag(FLAGS_token_file); !file.empty()) {
    absl::StatusOr<std::string> token = shadowplane::ReadSecretFile(file, "--token_file");
    if (!token.ok()) {
      std::cerr << "shadowctl: " << token.status().message() << "\n";
      return shadowplane::cli::kExitUsage;
    }
    options.token = *std::move(token);
  } else if (const char* env = std::getenv("SHADOWPLANE_TOKEN"); env != nullptr) {
    options.token = std::string(absl::StripAsciiWhitespace(env));
  }
  if (absl::GetFlag(FLAGS_insecure)) {
    options.transport = shadowplane::TransportSecurity::Insecure();
  } else {
    auto flag_or_env = [](const std::string& flag, const char* env) {
      const char* value = std::getenv(env);
      return !flag.empty() || value == nullptr ? flag : std::string(value);
    };
    shadowplane::TlsFiles files;
    files.ca = flag_or_env(absl::GetFlag(FLAGS_ca), "SHADOWPLANE_CA");
    files.cert = flag_or_env(absl::GetFlag(FLAGS_cert), "SHADOWPLANE_CERT");
    files.key = flag_or_env(absl::GetFlag(FLAGS_key), "SHADOWPLANE_KEY");
    auto transport = shadowplane::TransportSecurity::ForClient(files);
    if (!transport.ok()) {
      std::cerr << "shadowctl: " << transport.status().message() << "\n";
      return shadowplane::cli::kExitUsage;
    }
    options.transport = *std::move(transport);
  }
  options.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  options.json = absl::GetFlag(FLAGS_json);
  options.from = absl::GetFlag(FLAGS_from);
  options.to = absl::GetFlag(FLAGS_to);
  options.granularity = absl::GetFlag(FLAGS_granularity);
  options.horizon = absl::GetFlag(FLAGS_horizon);
  options.threshold = absl::GetFlag(FLAGS_threshold);
  options.refresh = absl::GetFlag(FLAGS_refresh);
  options.request_id = absl::GetFlag(FLAGS_request_id);
  options.name = absl::GetFlag(FLAGS_name);
  options.millicores = absl::GetFlag(FLAGS_millicores);
  options.memory_mib = absl::GetFlag(FLAGS_memory_mib);
  options.spot = absl::GetFlag(FLAGS_spot);
  options.full = absl::GetFlag(FLAGS_full);
  options.seed_dir = absl::GetFlag(FLAGS_seed_dir);
  options.service_name = absl::GetFlag(FLAGS_service_name);
  options.team = absl::GetFlag(FLAGS_team);
  options.locations = absl::GetFlag(FLAGS_locations);
  options.regions = absl::GetFlag(FLAGS_regions);
  options.clients = absl::GetFlag(FLAGS_clients);
  options.shadow_fraction = absl::GetFlag(FLAGS_shadow_fraction);
  options.sync_interval = absl::GetFlag(FLAGS_sync_interval);
  options.state = absl::GetFlag(FLAGS_state);
  options.location = absl::GetFlag(FLAGS_location);
  options.region = absl::GetFlag(FLAGS_region);
  options.kind = absl::GetFlag(FLAGS_kind);
  options.event_name = absl::GetFlag(FLAGS_event_name);
  options.target = absl::GetFlag(FLAGS_target);
  options.migration_kind = absl::GetFlag(FLAGS_migration_kind);
  options.start = absl::GetFlag(FLAGS_start);
  options.end = absl::GetFlag(FLAGS_end);
  options.resources = absl::GetFlag(FLAGS_resources);
  options.resource = absl::GetFlag(FLAGS_resource);
  options.uplift = absl::GetFlag(FLAGS_uplift);
  options.capacity_type = absl::GetFlag(FLAGS_capacity_type);
  options.reason = absl::GetFlag(FLAGS_reason);
  options.outcome = absl::GetFlag(FLAGS_outcome);
  options.planner_mode = absl::GetFlag(FLAGS_planner_mode);
  options.deadline = absl::GetFlag(FLAGS_deadline);
  options.instances = absl::GetFlag(FLAGS_instances);
  options.pin = absl::GetFlag(FLAGS_pin);
  options.reset_planner = absl::GetFlag(FLAGS_reset_planner);
  options.purge_telemetry = absl::GetFlag(FLAGS_purge_telemetry);
  options.watch = absl::GetFlag(FLAGS_watch);
  options.force = absl::GetFlag(FLAGS_force);
  options.endpoint = absl::GetFlag(FLAGS_endpoint);
  options.dns_server = absl::GetFlag(FLAGS_dns_server);
  options.refresh_seconds = absl::GetFlag(FLAGS_refresh_seconds);
  options.iterations = absl::GetFlag(FLAGS_iterations);
  options.top_rows = absl::GetFlag(FLAGS_top_rows);
  options.service_port = absl::GetFlag(FLAGS_service_port);
  options.trace = absl::GetFlag(FLAGS_trace);
  options.locations_file = absl::GetFlag(FLAGS_locations_file);
  options.from_hour = absl::GetFlag(FLAGS_from_hour);
  options.hours = absl::GetFlag(FLAGS_hours);
  options.requests_per_unit = absl::GetFlag(FLAGS_requests_per_unit);
  options.time_scale = absl::GetFlag(FLAGS_time_scale);
  options.write_share = absl::GetFlag(FLAGS_write_share);
  options.max_requests = absl::GetFlag(FLAGS_max_requests);
  options.max_seconds = absl::GetFlag(FLAGS_max_seconds);
  options.report_json = absl::GetFlag(FLAGS_report_json);
  options.caller = absl::GetFlag(FLAGS_caller);
  options.method = absl::GetFlag(FLAGS_method);
  options.code = absl::GetFlag(FLAGS_code);
  options.limit = absl::GetFlag(FLAGS_limit);
  options.concurrency = absl::GetFlag(FLAGS_concurrency);
  options.backfill_weeks = absl::GetFlag(FLAGS_backfill);
  return shadowplane::cli::RunShadowctl(loaded.positional, options, std::cout, std::cerr);
}
