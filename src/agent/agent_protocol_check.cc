#include "agent/agent_protocol_check.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/agent_protocol.h"

namespace shadowplane::agent {

absl::Status CheckProtocol(const grpc::ServerContextBase* context) {
  const auto& metadata = context->client_metadata();
  const auto it = metadata.find(kAgentProtocolMetadataKey);
  const std::string range = absl::StrCat(kMinAgentProtocolVersion, "..", kAgentProtocolVersion);
  if (it == metadata.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "missing metadata ", kAgentProtocolMetadataKey, "; this agent speaks protocol ", range));
  }
  std::string given(it->second.data(), it->second.size());
  int version = 0;
  if (!absl::SimpleAtoi(given, &version) || version < kMinAgentProtocolVersion ||
      version > kAgentProtocolVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "agent protocol version ", given, " is not supported; this agent speaks ", range));
  }
  return absl::OkStatus();
}

int CallerProtocol(const grpc::ServerContextBase* context) {
  const auto& metadata = context->client_metadata();
  const auto it = metadata.find(kAgentProtocolMetadataKey);
  int version = 0;
  if (it == metadata.end() ||
      !absl::SimpleAtoi(absl::string_view(it->second.data(), it->second.size()), &version)) {
    return 0;
  }
  return version;
}

}  // namespace shadowplane::agent
