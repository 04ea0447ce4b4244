// Who may speak to an instance as more than a client.
//
// An old primary passes writes (and reads) on to the new primary after a traffic switch
// (instance/write_forwarder.h); the new primary takes such a request as forwarded, not as a
// client's own (it is not recorded as an access there: the old primary recorded it). Each
// resource has a secret (64 hex digits) that the control plane keeps and the agents hand its
// instances; the forwarding instance signs each request with it, and the receiving one refuses
// with 403 any request that says it was forwarded without a valid signature. A signature is an
// HMAC-SHA256 over the method, the target, the forwarding instance and the time, good for
// kForwardSignatureWindow either side of the receiver's clock. The body is not covered: the
// hop between instances is plain HTTP, whose path a peer able to read it could change anyway.
//
// The agent's own views of an instance that name clients (/_shadowplane/accesses and
// /_shadowplane/disruptions) need the instance's agent key, a random value the agent keeps in
// the instance's private config and sends in kAgentKeyHeader. /_shadowplane/status names no
// client and stays open: the control plane probes it.
#ifndef SHADOWPLANE_INSTANCE_FORWARD_AUTH_H_
#define SHADOWPLANE_INSTANCE_FORWARD_AUTH_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shadowplane::instance {

inline constexpr char kForwardedByHeader[] = "X-Shadowplane-Forwarded-By";
inline constexpr char kForwardSignatureHeader[] = "X-Shadowplane-Forward-Signature";
inline constexpr char kAgentKeyHeader[] = "X-Shadowplane-Agent-Key";
inline constexpr absl::Duration kForwardSignatureWindow = absl::Minutes(5);

// 64 lowercase hex digits: the form of a forward secret and of an agent key.
bool IsSecret(absl::string_view s);
// 32 random bytes from OpenSSL's generator, as 64 hex digits.
std::string NewSecret();
// Whether `a` and `b` are equal, in time independent of where they differ.
bool SameSecret(absl::string_view a, absl::string_view b);

// "t=<Unix seconds>,mac=<64 hex digits>" for kForwardSignatureHeader.
std::string SignForward(absl::string_view secret, absl::string_view method,
                        absl::string_view target, absl::string_view forwarded_by, absl::Time now);
// Whether `signature` is SignForward's for these with `secret` at a time within the window of
// `now`. False for an empty or malformed secret or signature.
bool VerifyForward(absl::string_view secret, absl::string_view signature, absl::string_view method,
                   absl::string_view target, absl::string_view forwarded_by, absl::Time now);

}  // namespace shadowplane::instance

#endif  // SHADOWPLANE_INSTANCE_FORWARD_AUTH_H_
