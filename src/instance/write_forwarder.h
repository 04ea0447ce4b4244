// Passes a request that reached an old primary after a traffic switch on to the instance that now
// serves the resource: writes (so that none is lost), and reads too (so that a client never reads
// from data that lacks a write it made through the new primary). A write's body is sent from its
// temporary file, never held in memory; an answer is held in memory up to a bound. Blocking:
// called on a worker thread. Thread-safe (no shared state).
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
  std::string body;
  std::string instance;  // the target's X-Shadowplane-Instance
};

struct ForwardLimits {
  absl::Duration connect = absl::Seconds(5);
  absl::Duration exchange = absl::Seconds(30);  // sending the request and reading the answer
  // An answer with a longer body fails (UNAVAILABLE): 1 MiB for a write's answer, more for a
  // read (the file itself).
  uint64_t max_answer_bytes = 1 << 20;
};

// Sends `req` (PUT with req.body, DELETE or GET) to `target` ("IP:port", IPv6 in brackets),
// naming `forwarded_by` in X-Shadowplane-Forwarded-By with `signature` (instance/forward_auth.h;
// empty: none) in X-Shadowplane-Forward-Signature. UNAVAILABLE when the target cannot be
// reached, does not answer in time or answers beyond the bound; INVALID_ARGUMENT when `target` is
// not an IP endpoint.
absl::StatusOr<ForwardedAnswer> ForwardRequest(const HttpRequest& req, const std::string& target,
                                               const std::string& forwarded_by,
                                               const std::string& signature,
                                               const ForwardLimits& limits = {});

}  // namespace shadowplane::instance

#endif  // SHADOWPLANE_INSTANCE_WRITE_FORWARDER_H_
