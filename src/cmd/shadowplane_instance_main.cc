// shadowplane-instance: one running copy of a resource, started and supervised by
// shadowplane-agent. Serves INSTANCE_DIR/data over HTTP/1.1 as INSTANCE_DIR/instance.yaml says;
// SIGHUP re-reads that file (capacity, read-only mode), SIGTERM or SIGINT stops it.
//
// Exit codes: 0 stopped by a signal, 2 bad arguments or config, 3 cannot listen.

#include <signal.h>

#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "common/config.h"
#include "common/log.h"
#include "instance/file_server.h"
#include "instance/instance_config.h"

ABSL_FLAG(std::string, instance_dir, "",
          "The instance's directory: instance.yaml and data/ (required)");

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

  shadowplane::instance::FileServer server(dir + "/data", *config);
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
      .Field("millicores", config->capacity.millicores);

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
