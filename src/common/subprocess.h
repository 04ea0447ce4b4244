// Runs a child program to completion, optionally as another user, with a time limit, capturing its
// combined stdout and stderr. Used to drive PostgreSQL's initdb and pg_ctl. Thread-safe.
#ifndef SHADOWPLANE_COMMON_SUBPROCESS_H_
#define SHADOWPLANE_COMMON_SUBPROCESS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shadowplane {

struct SubprocessOptions {
  // Run as this user (name from the password database) when non-empty; needs root.
  std::string run_as_user;
  // Killed (SIGKILL) when it runs longer; DEADLINE_EXCEEDED is returned then.
  absl::Duration timeout = absl::Seconds(60);
};

struct SubprocessResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string output;  // stdout and stderr interleaved
};

// NOT_FOUND if the user does not exist, INTERNAL if the program cannot be started.
absl::StatusOr<SubprocessResult> RunSubprocess(const std::vector<std::string>& argv,
                                               const SubprocessOptions& options = {});

// "prog arg1 'arg 2'" for logs and messages.
std::string FormatCommandLine(const std::vector<std::string>& argv);

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_SUBPROCESS_H_
