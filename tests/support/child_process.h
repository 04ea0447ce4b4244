// A program started by a test, with its stdout and stderr in a log file, killed (SIGKILL) and
// reaped when the object goes away, so no test leaves processes behind.
#ifndef SHADOWPLANE_TESTS_SUPPORT_CHILD_PROCESS_H_
#define SHADOWPLANE_TESTS_SUPPORT_CHILD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shadowplane::testing {

class ChildProcess {
 public:
  // `env` entries ("NAME=value") are added to this process's environment.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(
      const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // The exit code once it exits within `timeout` (-1 for death by a signal), else nullopt.
  std::optional<int> WaitForExit(absl::Duration timeout);
  bool running();
  // Everything it wrote so far.
  std::string Output() const;
  // Waits until Output() contains `text`.
  bool WaitForOutput(const std::string& text, absl::Duration timeout);

 private:
  ChildProcess(pid_t pid, std::string log) : pid_(pid), log_(std::move(log)) {}
  pid_t pid_;
  std::string log_;
  std::optional<int> exit_code_;
};

// Runs to completion; exit code and output.
struct RunResult {
  int exit_code;
  std::string output;
};
RunResult RunToCompletion(const std::vector<std::string>& argv,
                          const std::vector<std::string>& env = {},
                          absl::Duration timeout = absl::Seconds(60));

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

// A fresh temporary directory (mode 0755, so an unprivileged database user can use it).
std::string MakeTempDir(const std::string& prefix);

}  // namespace shadowplane::testing

#endif  // SHADOWPLANE_TESTS_SUPPORT_CHILD_PROCESS_H_
