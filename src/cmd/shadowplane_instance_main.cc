// shadowplane-instance: one running copy of a resource, started and supervised by
// shadowplane-agent. Serves INSTANCE_DIR/data over HTTP/1.1 as INSTANCE_DIR/instance.yaml says;
// SIGHUP re-reads that file (capacity, read-only mode), SIGTERM or SIGINT stops it.
//
// Exit codes: 0 stopped by a signal, 2 bad arguments or config, 3 cannot listen.

#include <signal.h>

#include <iostream>
#include <thread>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "common/config.h"
#include "common/log.h"
#include "instance/file_server.h"
#include "instance/instance_config.h"

ABSL_FLAG(std::string, instance_dir, "",
          "The instance's directory: instance.yaml, data/ and spool/ (required)");
ABSL_FLAG(int, max_connections, 512,
          "Open connections at most; a new one closes the connection idle the longest, or is "
          "refused with 503 when none is idle");
ABSL_FLAG(absl::Duration, idle_timeout, absl::Seconds(60),
          "A kept-alive connection with no request for this long is closed");
ABSL_FLAG(absl::Duration, header_timeout, absl::Seconds(10),
          "A request's header must arrive within this long of its first byte");
ABSL_FLAG(absl::Duration, read_timeout, absl::Seconds(30),
          "Each 64 KiB of a request body must arrive within this long");
ABSL_FLAG(absl::Duration, write_timeout, absl::Seconds(30),
          "Each part of an answer must be taken by the client within this long");

namespace {

int Main(int argc, char** argv) {
  shadowplane::ConfigOptions options;
  options.program = "shadowplane-instance";
  options.description =
      "serves one instance's data over HTTP; started by shadowplane-agent, not by hand.";
  if (shadowplane::WantsHelp(argc, argv)) {
    std::cout << shadowplane::HelpText(options);
    return 0;
  }
  shadowplane::LoadedConfig loaded;
  if (absl::Status s = shadowplane::LoadConfig(options, argc, argv, &loaded); !s.ok()) {
    std::cerr << "shadowplane-instance: " << s.message() << "\n";
    return 2;
  }
  const std::string dir = absl::GetFlag(FLAGS_instance_dir);
  if (dir.empty()) {
    std::cerr << "shadowplane-instance: --instance_dir is required\n";
    return 2;
  }
  const std::string config_path = dir + "/instance.yaml";
  auto config = shadowplane::instance::LoadInstanceConfig(config_path);
  if (!config.ok()) {
    std::cerr << "shadowplane-instance: " << config.status().message() << "\n";
    return 2;
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  shadowplane::instance::FileServerOptions limits;
  limits.spool_dir = dir + "/spool";
  limits.max_connections = absl::GetFlag(FLAGS_max_connections);
  limits.idle_timeout = absl::GetFlag(FLAGS_idle_timeout);
  limits.header_timeout = absl::GetFlag(FLAGS_header_timeout);
  limits.read_timeout = absl::GetFlag(FLAGS_read_timeout);
  limits.write_timeout = absl::GetFlag(FLAGS_write_timeout);
  for (const auto& [name, d] : {std::pair{"idle_timeout", limits.idle_timeout},
                                {"header_timeout", limits.header_timeout},
                                {"read_timeout", limits.read_timeout},
                                {"write_timeout", limits.write_timeout}}) {
    if (d <= absl::ZeroDuration()) {
      std::cerr << "shadowplane-instance: --" << name << " must be positive\n";
      return 2;
    }
  }
  if (limits.max_connections < 1) {
    std::cerr << "shadowplane-instance: --max_connections must be at least 1\n";
    return 2;
  }
  shadowplane::instance::FileServer server(dir + "/data", *config, limits);
  if (absl::Status s = server.Bind(); !s.ok()) {
    LOG_EVENT(kError, "instance cannot listen").Field("error", s);
    std::cerr << "shadowplane-instance: " << s.message() << "\n";
    return 3;
  }
  LOG_EVENT(kInfo, "instance serving")
      .Field("instance_id", config->instance_id)
      .Field("address", config->address)
      .Field("port", config->port)
      .Field("read_only", config->read_only)
      .Field("millicores", config->capacity.millicores)
      .Field("max_connections", limits.max_connections);

  std::thread signal_thread([&] {
    while (true) {
      int sig = 0;
      sigwait(&signals, &sig);
      if (sig != SIGHUP) {
        LOG_EVENT(kInfo, "instance stopping").Field("signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
        server.Stop();
        return;
      }
      auto reloaded = shadowplane::instance::LoadInstanceConfig(config_path);
      if (!reloaded.ok()) {
        LOG_EVENT(kError, "instance config reload failed").Field("error", reloaded.status());
        continue;
      }
      if (absl::Status applied = server.Reconfigure(*reloaded); !applied.ok()) {
        LOG_EVENT(kWarning, "instance config applied to new requests only").Field("error", applied);
        continue;
      }
      LOG_EVENT(kInfo, "instance reconfigured")
          .Field("generation", reloaded->generation)
          .Field("read_only", reloaded->read_only)
          .Field("hold_writes", reloaded->hold_writes)
          .Field("millicores", reloaded->capacity.millicores)
          .Field("memory_mib", reloaded->capacity.memory_mib);
    }
  });
  server.Serve();
  signal_thread.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
