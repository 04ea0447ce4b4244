// The agent protocol version check every agent RPC but Hello starts with.
#ifndef SHADOWPLANE_API_AGENT_PROTOCOL_CHECK_H_
#define SHADOWPLANE_API_AGENT_PROTOCOL_CHECK_H_

#include <grpcpp/server_context.h>

#include "absl/status/status.h"

namespace shadowplane::api {

// FAILED_PRECONDITION, naming the versions this agent speaks, unless the caller's
// "x-shadowplane-agent-protocol" metadata names one of them.
absl::Status CheckProtocol(const grpc::ServerContextBase* context);

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_AGENT_PROTOCOL_CHECK_H_
