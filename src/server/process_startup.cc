#include "server/process_startup.h"

#include <signal.h>

#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/synchronization/mutex.h"
#include "common/config.h"
#include "common/log.h"

ABSL_FLAG(std::string, config, "", "YAML file of flag values (keys are flag names)");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");
ABSL_FLAG(bool, print_config, false,
          "Print the effective configuration and its sources, then exit");

namespace shadowplane::server {

std::optional<int> PrepareProcess(const std::string& program, const std::string& description,
                                  int argc, char** argv) {
  ConfigOptions config;
  config.program = program;
  config.description = description;
  if (WantsHelp(argc, argv)) {
    std::cout << HelpText(config);
    return 0;
  }
  LoadedConfig loaded;
  if (absl::Status s = LoadConfig(config, argc, argv, &loaded); !s.ok()) {
    std::cerr << program << ": " << s.message() << "\n";
    return kExitConfigError;
  }
  LogLevel level;
  if (!ParseLogLevel(absl::GetFlag(FLAGS_log_level), &level)) {
    std::cerr << program << ": invalid value '" << absl::GetFlag(FLAGS_log_level)
              << "' for --log_level: expected debug, info, warning or error\n";
    return kExitConfigError;
  }
  SetMinLogLevel(level);
  if (absl::Status s = CheckSecretPlacement(loaded, absl::GetFlag(FLAGS_config)); !s.ok()) {
    std::cerr << program << ": " << s.message() << "\n";
    return kExitConfigError;
  }
  if (absl::GetFlag(FLAGS_print_config)) {
    std::cout << FormatConfig(loaded);
    return 0;
  }
  return std::nullopt;
}

struct StopOnSignal::State {
  absl::Mutex mu;
  bool signalled ABSL_GUARDED_BY(mu) = false;
  std::function<void()> stop ABSL_GUARDED_BY(mu);
};

StopOnSignal::StopOnSignal() : state_(std::make_shared<State>()) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // Detached: it may still wait in sigwait when the process exits, which ends it.
  std::thread([signals, state = state_] {
    int sig = 0;
    sigwait(&signals, &sig);
    LOG_EVENT(kInfo, "signal received").Field("signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
    absl::MutexLock lock(&state->mu);
    state->signalled = true;
    if (state->stop) state->stop();
  }).detach();
}

void StopOnSignal::Arm(std::function<void()> stop) {
  absl::MutexLock lock(&state_->mu);
  state_->stop = std::move(stop);
  if (state_->signalled) state_->stop();
}

void StopOnSignal::Disarm() {
  absl::MutexLock lock(&state_->mu);
  state_->stop = nullptr;
}

}  // namespace shadowplane::server
