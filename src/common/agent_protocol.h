// Versions of the agent protocol (proto/shadowplane/agent/v1/agent.proto). A caller sends its
// version in metadata; the agent serves every version in [kMinAgentProtocolVersion,
// kAgentProtocolVersion], so adjacent releases interoperate and older ones are refused clearly.
#ifndef SHADOWPLANE_COMMON_AGENT_PROTOCOL_H_
#define SHADOWPLANE_COMMON_AGENT_PROTOCOL_H_

namespace shadowplane {

// 2: Pull sources send heartbeats (sync.proto's Heartbeat) to callers of version 2 or later.
inline constexpr int kAgentProtocolVersion = 2;
inline constexpr int kMinAgentProtocolVersion = 1;
inline constexpr char kAgentProtocolMetadataKey[] = "x-shadowplane-agent-protocol";

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_AGENT_PROTOCOL_H_
