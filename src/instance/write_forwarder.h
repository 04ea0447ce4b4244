// Passes a write that reached a read-only instance (an old primary after a traffic switch) on to
// the instance that now takes writes. The body is sent from its temporary file, never held in
// memory. Blocking: called on a worker thread. Thread-safe (no shared state).
#ifndef SHADOWPLANE_INSTANCE_WRITE_FORWARDER_H_
#define SHADOWPLANE_INSTANCE_WRITE_FORWARDER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "instance/http_message.h"

namespace shadowplane::instance {

struct ForwardedAnswer {
  int status = 0;
  std::string content_type;
  std::string body;  // at most 1 MiB is kept
};

struct ForwardTimeouts {
  absl::Duration connect = absl::Seconds(5);
  absl::Duration exchange = absl::Seconds(30);  // sending the write and reading the answer
};

// Sends `req` (PUT with req.body, or DELETE) to `target` ("IP:port", IPv6 in brackets), naming
// `forwarded_by` in X-Shadowplane-Forwarded-By. UNAVAILABLE when the target cannot be reached or
// does not answer in time; INVALID_ARGUMENT when `target` is not an IP endpoint.
absl::StatusOr<ForwardedAnswer> ForwardWrite(const HttpRequest& req, const std::string& target,
                                             const std::string& forwarded_by,
                                             const ForwardTimeouts& timeouts = {});

}  // namespace shadowplane::instance

#endif  // SHADOWPLANE_INSTANCE_WRITE_FORWARDER_H_
