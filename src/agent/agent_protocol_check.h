// The agent protocol version check every agent RPC but Hello starts with.
#ifndef SHADOWPLANE_AGENT_AGENT_PROTOCOL_CHECK_H_
#define SHADOWPLANE_AGENT_AGENT_PROTOCOL_CHECK_H_

#include <grpcpp/server_context.h>

#include "absl/status/status.h"

namespace shadowplane::agent {

// FAILED_PRECONDITION, naming the versions this agent speaks, unless the caller's
// "x-shadowplane-agent-protocol" metadata names one of them.
absl::Status CheckProtocol(const grpc::ServerContextBase* context);

// The protocol version the caller named; 0 when it named none or no number.
int CallerProtocol(const grpc::ServerContextBase* context);

}  // namespace shadowplane::agent

#endif  // SHADOWPLANE_AGENT_AGENT_PROTOCOL_CHECK_H_
