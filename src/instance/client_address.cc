#include "instance/client_address.h"

#include <arpa/inet.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace shadowplane::instance {

const char* ClientAddressSourceName(ClientAddressSource source) {
  switch (source) {
    case ClientAddressSource::kPeer:
      return "peer";
    case ClientAddressSource::kForwarded:
      return "forwarded";
    case ClientAddressSource::kUntrustedForwardedFor:
      return "untrusted_forwarded_for";
    case ClientAddressSource::kMalformedForwardedFor:
      return "malformed_forwarded_for";
  }
  return "peer";
}

absl::StatusOr<std::string> CanonicalAddress(const std::string& text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) {
    return absl::InvalidArgumentError("not an IP address");
  }
  char out[INET6_ADDRSTRLEN];
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return std::string(inet_ntop(AF_INET, &v4, out, sizeof(out)));
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return std::string(inet_ntop(AF_INET6, &v6, out, sizeof(out)));
  }
  return absl::InvalidArgumentError(absl::StrCat("not an IP address: ", text.substr(0, 64)));
}

ClientAddress ClientAddressOf(const std::vector<std::pair<std::string, std::string>>& headers,
                              const std::string& peer,
                              const std::vector<std::string>& trusted_proxies) {
  const std::string* last = nullptr;
  for (const auto& [name, value] : headers) {
    if (absl::EqualsIgnoreCase(name, "X-Forwarded-For")) last = &value;
  }
  if (last == nullptr) return {peer, ClientAddressSource::kPeer};
  const absl::StatusOr<std::string> canonical_peer = CanonicalAddress(peer);
  bool trusted = false;
  for (const std::string& proxy : trusted_proxies) {
    if (canonical_peer.ok() && proxy == *canonical_peer) trusted = true;
  }
  if (!trusted) return {peer, ClientAddressSource::kUntrustedForwardedFor};
  const size_t comma = last->rfind(',');
  const std::string element(
      absl::StripAsciiWhitespace(comma == std::string::npos ? *last : last->substr(comma + 1)));
  absl::StatusOr<std::string> client = CanonicalAddress(element);
  if (!client.ok()) return {peer, ClientAddressSource::kMalformedForwardedFor};
  return {*std::move(client), ClientAddressSource::kForwarded};
}

}  // namespace shadowplane::instance
