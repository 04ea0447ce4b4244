// Who may call an agent. With TLS the agent's listener requires a client certificate signed by
// the fleet's CA (common/transport_security.h), and each handler names the identities it serves:
// instance management and the start of sync rounds only the control plane, the source side of a
// sync (Pull) also any location's agent. A plaintext call (the agent runs --insecure, loopback
// only) has no identity to check and passes.
#ifndef SHADOWPLANE_AGENT_AGENT_PEER_CHECK_H_
#define SHADOWPLANE_AGENT_AGENT_PEER_CHECK_H_

#include <grpcpp/server_context.h>

#include "absl/status/status.h"

namespace shadowplane::agent {

enum class AllowedPeers {
  kControlPlane,          // control-plane.shadowplane
  kControlPlaneOrAgents,  // ... or <location>.agent.shadowplane
};

// UNAUTHENTICATED for a TLS call without a verified certificate; PERMISSION_DENIED, naming the
// identity presented, for one the handler does not serve.
absl::Status CheckPeer(const grpc::ServerContextBase* context, AllowedPeers allowed);

}  // namespace shadowplane::agent

#endif  // SHADOWPLANE_AGENT_AGENT_PEER_CHECK_H_
