#include "agent/agent_peer_check.h"

#include <grpc/grpc_security_constants.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/transport_security.h"

namespace shadowplane::agent {

absl::Status CheckPeer(const grpc::ServerContextBase* context, AllowedPeers allowed) {
  const std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
  if (auth == nullptr) return absl::UnauthenticatedError("no transport security context");
  const std::vector<grpc::string_ref> security =
      auth->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME);
  if (!security.empty() && security.front() == "insecure") return absl::OkStatus();
  const std::vector<std::string> identities = PeerIdentities(*auth);
  if (identities.empty()) {
    return absl::UnauthenticatedError("the agent serves only callers with a certificate");
  }
  for (const std::string& identity : identities) {
    if (identity == kControlPlaneIdentity) return absl::OkStatus();
    if (allowed == AllowedPeers::kControlPlaneOrAgents && AgentLocationOf(identity).has_value()) {
      return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "this agent method serves ",
      allowed == AllowedPeers::kControlPlane ? "the control plane" : "the control plane and agents",
      ", not ", absl::StrJoin(identities, ", ")));
}

}  // namespace shadowplane::agent
