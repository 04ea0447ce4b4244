// shadowplane-agent: one per location. Holds the instances' data and runs their processes.

#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/loopback.h"
#include "common/secret_file.h"
#include "common/status_macros.h"
#include "common/transport_security.h"
#include "instance/client_address.h"
#include "server/agent_server.h"
#include "server/process_startup.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50061", "gRPC listen address, host:port");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate of this agent (SAN <location>.agent.shadowplane): its identity towards "
          "the control plane and peer agents, as server and client. Reloaded when it changes");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert (not readable by others)");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA bundle the control plane's and peer agents' certificates must chain to");
ABSL_FLAG(absl::Duration, tls_reload_interval, absl::Seconds(60),
          "How often the TLS files are checked for changes");
ABSL_FLAG(bool, insecure, false,
          "Serve and call plaintext gRPC instead of TLS, with no caller identity checked: "
          "loopback --listen only");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9465",
          "Prometheus /metrics listen address, host:port");
ABSL_FLAG(std::string, location, "local", "Name of the location this agent serves");
ABSL_FLAG(std::string, data_root, "",
          "Where instance directories live; default /var/lib/shadowplane-agent for root, else "
          "$XDG_DATA_HOME/shadowplane-agent or ~/.local/share/shadowplane-agent");
ABSL_FLAG(
    std::string, instance_network, "127.0.1",
    "First three octets of the loopback /24 whose addresses (.1 to .254) instances listen on");
ABSL_FLAG(int, instance_port, 8080, "TCP port every instance listens on, at its own address");
ABSL_FLAG(int64_t, capacity_millicores, 8000, "vCPU capacity of this location, in millicores");
ABSL_FLAG(int64_t, capacity_memory_mib, 16384, "Memory capacity of this location, in MiB");
ABSL_FLAG(std::string, instance_binary, "",
          "The shadowplane-instance program; default: beside this program");
ABSL_FLAG(absl::Duration, instance_start_timeout, absl::Seconds(10),
          "How long an instance may take to start listening");
ABSL_FLAG(int, sync_threads, 2,
          "Files hashed, signed and delta-encoded in parallel during a sync round");
ABSL_FLAG(int, sync_window, 6, "Files in flight per sync round (this agent as target)");
ABSL_FLAG(int64_t, sync_signature_cache_mib, 64,
          "Signatures of an instance's files kept between sync rounds, in MiB per instance");
ABSL_FLAG(absl::Duration, sync_round_timeout, absl::Hours(1), "Longest a sync round may take");
ABSL_FLAG(absl::Duration, sync_stall_timeout, absl::Seconds(60),
          "A sync round whose source sends nothing, not even a heartbeat (every 10s), for this "
          "long is given up");
ABSL_FLAG(std::string, control_plane, "",
          "Comma-separated host:port of the shadowplane replicas that renew this agent's write "
          "leases. Without it, a read-write instance stops taking writes once the lease it was "
          "granted runs out.");
ABSL_FLAG(std::string, seed_root, "",
          "Instances are seeded only from directories inside this one (their real paths); empty: "
          "the agent takes no seed_dir");
ABSL_FLAG(std::string, control_plane_token_file, "",
          "A file holding this agent's bearer token for the control plane (role agent, this "
          "location; not readable by others), when the control plane authenticates callers");
ABSL_FLAG(absl::Duration, utilization_interval, absl::Seconds(10),
          "How often each instance's CPU, memory and network bytes are sampled for telemetry");
ABSL_FLAG(absl::Duration, access_poll_interval, absl::Seconds(1),
          "How often the instances' access logs are read and shipped to the control plane");
ABSL_FLAG(int64_t, spool_max_bytes, int64_t{256} << 20,
          "Telemetry kept on disk (<data_root>/telemetry-spool) while the control plane cannot "
          "be reached; past it the oldest batches are dropped and counted");
ABSL_FLAG(std::string, trusted_proxies, "",
          "Comma-separated addresses of proxies in front of the instances (e.g. the local "
          "HAProxy, 127.0.0.1) whose X-Forwarded-For names the client; from any other peer the "
          "header is ignored");
ABSL_FLAG(bool, record_accesses, true,
          "Whether new instances record every answered request for telemetry");
ABSL_FLAG(double, time_scale, 1,
          "Domain seconds per real second, as the server's --time_scale: the telemetry's "
          "timestamps are domain time (a demo runs faster than real time)");
ABSL_FLAG(std::string, time_epoch, "",
          "RFC 3339 instant where domain time equals real time, as the server's --time_epoch");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGINT/SIGTERM, how long in-flight calls may take before they are cancelled");

namespace {

using shadowplane::server::kExitConfigError;

std::string BesideThisProgram(const std::string& name) {
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return name;
  std::string path(self, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/') + 1) + name;
}

bool ValidNetwork(const std::string& network) {
  std::vector<std::string> octets = absl::StrSplit(network, '.');
  if (octets.size() != 3 || octets[0] != "127") return false;
  for (const std::string& o : octets) {
    int v = 0;
    if (!absl::SimpleAtoi(o, &v) || v < 0 || v > 255) return false;
  }
  return true;
}

// TLS from the flags, the certificate naming this agent's location; or plaintext (--insecure).
absl::Status LoadTransport(shadowplane::server::AgentServerOptions& options) {
  shadowplane::TlsFiles files;
  files.cert = absl::GetFlag(FLAGS_tls_cert);
  files.key = absl::GetFlag(FLAGS_tls_key);
  files.ca = absl::GetFlag(FLAGS_tls_ca);
  files.reload_interval = absl::GetFlag(FLAGS_tls_reload_interval);
  const bool insecure = absl::GetFlag(FLAGS_insecure);
  RETURN_IF_ERROR(shadowplane::CheckTransportFlags(files, insecure, options.listen));
  if (insecure) {
    options.transport = shadowplane::TransportSecurity::Insecure();
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(options.transport, shadowplane::TransportSecurity::FromFiles(files));
  options.tls_cert = files.cert;
  const std::string identity = shadowplane::AgentIdentity(options.instances.location);
  const std::vector<std::string>& names = options.transport->identities();
  if (std::find(names.begin(), names.end(), identity) == names.end()) {
    return absl::FailedPreconditionError(absl::StrCat("--tls_cert ", files.cert, " names ",
                                                      absl::StrJoin(names, ", "), ", not ",
                                                      identity, " (this agent's --location)"));
  }
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  if (auto exit_code = shadowplane::server::PrepareProcess(
          "shadowplane-agent",
          "the shadowplane agent of one location: holds instance data, runs the instances, "
          "serves the agent protocol over gRPC.",
          argc, argv)) {
    return *exit_code;
  }
  shadowplane::server::AgentServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  auto& instances = options.instances;
  instances.location = absl::GetFlag(FLAGS_location);
  instances.data_root = absl::GetFlag(FLAGS_data_root);
  instances.seed_root = absl::GetFlag(FLAGS_seed_root);
  if (instances.data_root.empty())
    instances.data_root = shadowplane::server::DefaultAgentDataRoot();
  instances.instance_network = absl::GetFlag(FLAGS_instance_network);
  instances.instance_port = absl::GetFlag(FLAGS_instance_port);
  instances.capacity_millicores = absl::GetFlag(FLAGS_capacity_millicores);
  instances.capacity_memory_mib = absl::GetFlag(FLAGS_capacity_memory_mib);
  instances.instance_binary = absl::GetFlag(FLAGS_instance_binary);
  if (instances.instance_binary.empty()) {
    instances.instance_binary = BesideThisProgram("shadowplane-instance");
  }
  instances.start_timeout = absl::GetFlag(FLAGS_instance_start_timeout);
  options.sync.threads = absl::GetFlag(FLAGS_sync_threads);
  options.sync.window = absl::GetFlag(FLAGS_sync_window);
  options.sync.signature_cache_bytes = absl::GetFlag(FLAGS_sync_signature_cache_mib) << 20;
  options.sync.round_timeout = absl::GetFlag(FLAGS_sync_round_timeout);
  options.sync.stall_timeout = absl::GetFlag(FLAGS_sync_stall_timeout);
  instances.record_accesses = absl::GetFlag(FLAGS_record_accesses);
  options.telemetry.utilization_interval = absl::GetFlag(FLAGS_utilization_interval);
  options.telemetry.poll_interval = absl::GetFlag(FLAGS_access_poll_interval);
  options.telemetry.spool_max_bytes = absl::GetFlag(FLAGS_spool_max_bytes);
  std::string bad;
  if (auto clock = shadowplane::MakeDomainClock(absl::GetFlag(FLAGS_time_scale),
                                                absl::GetFlag(FLAGS_time_epoch));
      clock.ok()) {
    options.telemetry.time_scale = (*clock)->scale();
    options.telemetry.time_epoch = (*clock)->epoch();
  } else {
    bad = absl::StrCat("--", clock.status().message());
  }
  for (absl::string_view proxy :
       absl::StrSplit(absl::GetFlag(FLAGS_trusted_proxies), ',', absl::SkipWhitespace())) {
    absl::StatusOr<std::string> address =
        shadowplane::instance::CanonicalAddress(std::string(absl::StripAsciiWhitespace(proxy)));
    if (!address.ok()) {
      bad = absl::StrCat("--trusted_proxies: ", address.status().message());
      break;
    }
    instances.trusted_proxies.push_back(*std::move(address));
  }
  if (const std::string list = absl::GetFlag(FLAGS_control_plane); !list.empty() && bad.empty()) {
    auto parsed = shadowplane::agent::ParseControlPlane(list);
    if (parsed.ok()) {
      options.control_plane = *parsed;
    } else {
      bad = std::string(parsed.status().message());
    }
  }
  if (const std::string file = absl::GetFlag(FLAGS_control_plane_token_file);
      !file.empty() && bad.empty()) {
    absl::StatusOr<std::string> token =
        shadowplane::ReadSecretFile(file, "--control_plane_token_file");
    if (token.ok()) {
      options.control_plane_token = *std::move(token);
    } else {
      bad = std::string(token.status().message());
    }
  }
  if (!bad.empty()) {
  } else if (absl::Status s = LoadTransport(options); !s.ok()) {
    bad = std::string(s.message());
  } else if (!ValidNetwork(instances.instance_network)) {
    bad = "--instance_network must be three octets of 127.0.0.0/8, e.g. 127.0.1";
  } else if (instances.instance_port < 1 || instances.instance_port > 65535) {
    bad = "--instance_port must be 1 to 65535";
  } else if (instances.capacity_millicores <= 0 || instances.capacity_memory_mib <= 0) {
    bad = "--capacity_millicores and --capacity_memory_mib must be positive";
  } else if (options.sync.threads < 1 || options.sync.threads > 64) {
    bad = "--sync_threads must be 1 to 64";
  } else if (options.sync.window < 1 || options.sync.window > 64) {
    bad = "--sync_window must be 1 to 64";
  } else if (options.sync.signature_cache_bytes < 0) {
    bad = "--sync_signature_cache_mib must not be negative";
  } else if (options.sync.round_timeout <= absl::ZeroDuration()) {
    bad = "--sync_round_timeout must be positive";
  } else if (options.sync.stall_timeout <= options.sync.heartbeat_interval) {
    bad = "--sync_stall_timeout must be longer than the sources' heartbeat interval (10s)";
  } else if (instances.location.empty()) {
    bad = "--location must not be empty";
  } else if (options.telemetry.utilization_interval <= absl::ZeroDuration() ||
             options.telemetry.poll_interval <= absl::ZeroDuration()) {
    bad = "--utilization_interval and --access_poll_interval must be positive";
  } else if (options.telemetry.spool_max_bytes < (int64_t{1} << 20)) {
    bad = "--spool_max_bytes must be at least 1 MiB (1048576)";
  }
  if (!bad.empty()) {
    std::cerr << "shadowplane-agent: " << bad << "\n";
    return kExitConfigError;
  }

  shadowplane::server::StopOnSignal stop_on_signal;
  auto server = shadowplane::server::AgentServer::Start(options);
  if (!server.ok()) {
    LOG_EVENT(kError, "shadowplane-agent failed to start").Field("error", server.status());
    std::cerr << "shadowplane-agent: " << server.status().message() << "\n";
    return 1;
  }
  stop_on_signal.Arm([&server] { (*server)->Shutdown(); });
  (*server)->Wait();
  stop_on_signal.Disarm();
  LOG_EVENT(kInfo, "shadowplane-agent stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
