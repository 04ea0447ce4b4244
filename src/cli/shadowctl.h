// shadowctl: the command-line client of the public API, for people. Tables by default, --json for
// scripts. Runs one command against --server (or SHADOWPLANE_SERVER) and reports the outcome.
#ifndef SHADOWPLANE_CLI_SHADOWCTL_H_
#define SHADOWPLANE_CLI_SHADOWCTL_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/transport_security.h"

namespace shadowplane::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRpcError = 1;
inline constexpr int kExitUsage = 2;

// What the commands take besides their words; fields are used by the commands that need them.
struct ShadowctlOptions {
  std::string server = "127.0.0.1:50051";
  bool json = false;
  // Sent as `authorization: Bearer <token>` on every call (--token_file, else SHADOWPLANE_TOKEN);
  // empty: none.
  std::string token;
  // How the server is reached: TLS (its certificate must name tls_server_name) or plaintext;
  // null: plaintext.
  std::shared_ptr<const TransportSecurity> transport;
  std::string tls_server_name = std::string(kControlPlaneIdentity);
  // reserve
  std::string request_id;
  std::string name;
  int64_t millicores = 0;
  int64_t memory_mib = 0;
  bool spot = false;
  std::string seed_dir;
  std::string service_name;  // empty: the server's --traffic_service_name
  std::string team;          // reserve, reservations list; empty: the caller's / any
  std::vector<std::string> locations;
  std::vector<std::string> regions;
  std::vector<std::string> clients;  // "region:weight"
  // reserve and reservations update (negative: not given)
  double shadow_fraction = -1;
  double sync_interval = -1;
  // sync
  bool full = false;
  // lists
  std::string state;
  std::string location;
  std::string region;
  // demand
  std::string from;
  std::string to;
  std::string granularity;
  // predict and plan (horizon 0: the server's default)
  int horizon = 0;
  // plan (negative: the server's default)
  double threshold = -1;
  bool refresh = false;
  // events (uplift empty: learned from past events of the kind)
  std::string kind;
  std::string event_name;
  std::string start;
  std::string end;
  std::vector<std::string> resources;
  std::string resource;  // events list filter
  std::string uplift;
  // migrate (`to` and `kind` are the deprecated spellings of `target` and `migration_kind`; `name`
  // that of events register's `event_name`)
  std::string target;
  std::string migration_kind;
  std::string capacity_type;
  std::string reason;
  bool watch = false;
  bool force = false;
  // decisions list
  std::string outcome;
  // reserve and reservations update: the planner's settings for the reservation (threshold
  // above; empty mode and no pin: not given)
  std::string planner_mode;
  std::optional<std::string> pin;
  bool reset_planner = false;
  bool purge_telemetry = false;  // reservations release: its clients' telemetry goes too
  // spot interrupt: a duration from now (empty: the server's default) and only these instances
  std::string deadline;
  std::vector<std::string> instances;
  // loadgen (cli/load_plan.h, cli/load_runner.h); backfill_weeks > 0 back-fills to `resource`
  std::string endpoint = "127.0.0.1:8080";
  // loadgen through DNS: the server asked for service_name, and the port connected to
  std::string dns_server;
  int service_port = 0;
  // top: seconds between refreshes, refreshes (0: until interrupted on a terminal, else 1), rows
  double refresh_seconds = 2;
  int iterations = 0;
  int top_rows = 20;
  std::string trace = "synthetic";
  std::string locations_file = "deploy/local/locations.yaml";
  int from_hour = 672;
  int hours = 24;
  double requests_per_unit = 0.05;
  double time_scale = 1800;
  double write_share = 0.1;
  int64_t max_requests = 100000;
  double max_seconds = 300;
  std::string report_json;
  // audit list: filters and how many rows (newest first)
  std::string caller;
  std::string method;
  std::string code;
  int limit = 100;  // loadgen: the report as JSON, also to this file
  int concurrency = 16;
  int backfill_weeks = 0;
};

// The usage text listing every command.
std::string ShadowctlUsage();

// Runs the command in `words` (e.g. {"reservations", "get", "ID"}).
int RunShadowctl(const std::vector<std::string>& words, const ShadowctlOptions& options,
                 std::ostream& out, std::ostream& err);

}  // namespace shadowplane::cli

#endif  // SHADOWPLANE_CLI_SHADOWCTL_H_
