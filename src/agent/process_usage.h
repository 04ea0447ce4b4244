// What a process uses, from /proc: CPU time (user + system, /proc/<pid>/stat) and resident memory
// (/proc/<pid>/statm). The agent samples its instances with it (agent/telemetry_shipper.h).
#ifndef SHADOWPLANE_AGENT_PROCESS_USAGE_H_
#define SHADOWPLANE_AGENT_PROCESS_USAGE_H_

#include <sys/types.h>

#include <cstdint>

#include "absl/status/statusor.h"

namespace shadowplane::agent {

struct ProcessUsage {
  double cpu_seconds = 0;  // since the process started
  int64_t resident_bytes = 0;
};

// NOT_FOUND when the process is gone; FAILED_PRECONDITION when /proc's text is not understood.
absl::StatusOr<ProcessUsage> ReadProcessUsage(pid_t pid);

}  // namespace shadowplane::agent

#endif  // SHADOWPLANE_AGENT_PROCESS_USAGE_H_
