// What every shadowplane binary does before its real work: --help, configuration (flags,
// SHADOWPLANE_* variables, the --config YAML file), --log_level and --print_config; and the
// SIGINT/SIGTERM handling that turns a signal into a graceful stop. The flags --config,
// --log_level and --print_config are defined here, once, for all of them.
#ifndef SHADOWPLANE_SERVER_PROCESS_STARTUP_H_
#define SHADOWPLANE_SERVER_PROCESS_STARTUP_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace shadowplane::server {

inline constexpr int kExitConfigError = 2;

// Returns an exit code when the process should end now (help shown: 0; configuration printed: 0;
// bad configuration, reported on stderr: kExitConfigError), nullopt to go on.
std::optional<int> PrepareProcess(const std::string& program, const std::string& description,
                                  int argc, char** argv);

// Turns SIGINT or SIGTERM into a call of the stop function armed at the time, or of the next one
// armed if the signal came first (e.g. during start-up). Construct it before starting threads:
// it blocks both signals in the calling thread, and threads started later inherit that.
// Thread-safe.
class StopOnSignal {
 public:
  StopOnSignal();
  void Arm(std::function<void()> stop);
  void Disarm();

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the signal thread, which may outlive this object
};

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_PROCESS_STARTUP_H_
