// Sends a load plan (cli/load_plan.h) to a target on loopback, open loop: each request at its
// planned time, from its planned source address (bound per connection), on its own connection
// (HTTP/1.1, Connection: close), so that every request is a client arriving from its region.
// GETs and PUTs of /loadgen/<region>/<client>. Counts per region what was sent, answered (any
// HTTP answer below 500) and failed (no answer, or 5xx), and which instance served each
// (X-Shadowplane-Instance).
#ifndef SHADOWPLANE_CLI_LOAD_RUNNER_H_
#define SHADOWPLANE_CLI_LOAD_RUNNER_H_

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/load_plan.h"

namespace shadowplane::cli {

struct RegionTally {
  int64_t sent = 0;
  int64_t answered = 0;
  int64_t failed = 0;
  std::map<std::string, int64_t> served_by;  // instance id -> answers
  std::vector<int64_t> answered_per_hour;    // per planned hour
  // Per hour of the wall clock (Unix seconds of its start), by when the answer came: what the
  // instances' own records, timed by the wall clock, show per hour.
  std::map<int64_t, int64_t> answered_per_wall_hour;
};

// One write as the client saw it, on the wall clock: from connecting to the end of the answer.
struct WriteTiming {
  absl::Time started;
  absl::Duration took;
  bool ok = false;
};

struct LoadReport {
  std::vector<RegionTally> regions;  // as LoadTrace::regions
  std::vector<WriteTiming> writes;   // in the order they ended
  absl::Time started;                // wall clock
  int64_t not_sent = 0;              // left when --max_seconds ran out
  int64_t unresolved = 0;            // failed because the target could not be resolved
  absl::Duration elapsed;
};

struct LoadRunOptions {
  std::string host;  // IPv4 loopback (the sources are 127.x addresses)
  int port = 0;
  // When set, asked before each request for the host instead (a DNS answer the caller caches for
  // its TTL: cli/dns_target.h); an error, or an answer off IPv4 loopback, fails that request.
  std::function<absl::StatusOr<std::string>()> resolve;
  int concurrency = 16;
  absl::Duration max_time = absl::Minutes(5);
  absl::Duration request_timeout = absl::Seconds(5);
  int write_bytes = 256;
};

struct LoadProgress {
  int64_t sent = 0, answered = 0, failed = 0, planned = 0;
  int hour = 0;  // of the trace, of the latest request sent
};

// A write freeze as the clients saw it: the writes in progress at some moment of [from, to]
// (wall clock), how many failed, the slowest; and the median of all writes, for comparison.
struct FreezeAsSeen {
  int writes = 0;
  int failed = 0;
  absl::Duration slowest;
  absl::Duration typical_write;  // the median of every write of the run
};
FreezeAsSeen WritesDuring(const std::vector<WriteTiming>& writes, absl::Time from, absl::Time to);

// INVALID_ARGUMENT for a target off loopback or not IPv4, or bad options. `progress` (optional)
// is called about once a second from another thread.
absl::StatusOr<LoadReport> RunLoad(const LoadPlan& plan, const LoadTrace& trace,
                                   const LoadRunOptions& options,
                                   const std::function<void(const LoadProgress&)>& progress);

}  // namespace shadowplane::cli

#endif  // SHADOWPLANE_CLI_LOAD_RUNNER_H_
