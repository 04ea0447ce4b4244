// The one rule for which failures are worth the same call again, unchanged, after a pause. Every
// retry loop (agent calls, the migration driver's steps, reservations waiting for a location or
// the traffic provider, telemetry commits) asks it, so they agree on what is transient.
#ifndef SHADOWPLANE_COMMON_RETRIABLE_H_
#define SHADOWPLANE_COMMON_RETRIABLE_H_

#include "absl/status/status.h"

namespace shadowplane {

// True for:
//   UNAVAILABLE         the peer or a dependency is down or unreachable (an agent, PostgreSQL,
//                       the traffic server);
//   DEADLINE_EXCEEDED   no answer in time;
//   ABORTED             gave up on a conflict (a transaction rolled back, a sync round cut short);
//   RESOURCE_EXHAUSTED  out of something that frees up by itself (a busy connection pool, a full
//                       queue, a full disk or location that a cleanup or a release may free).
// Everything else (bad input, missing objects, broken preconditions, internal errors) is
// permanent: the same call would fail the same way.
constexpr bool IsRetriable(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

inline bool IsRetriable(const absl::Status& status) { return IsRetriable(status.code()); }

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_RETRIABLE_H_
