// Which address a request came from. Behind a trusted proxy (the HAProxy in front of the
// instances) the connection's peer is the proxy, and the client's address is the one the proxy
// appended to `X-Forwarded-For`: the last element of the last such header (a client may send its
// own header, which the proxy keeps in front of its own addition, so only the last element is the
// proxy's word). From any other peer the header is a claim nobody checked, and the connection's
// own address stands.
#ifndef SHADOWPLANE_INSTANCE_CLIENT_ADDRESS_H_
#define SHADOWPLANE_INSTANCE_CLIENT_ADDRESS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace shadowplane::instance {

enum class ClientAddressSource {
  kPeer,                   // no X-Forwarded-For
  kForwarded,              // from a trusted proxy's X-Forwarded-For
  kUntrustedForwardedFor,  // X-Forwarded-For from a peer that is not a trusted proxy: ignored
  kMalformedForwardedFor,  // a trusted proxy's X-Forwarded-For whose last element is no address
};

// "peer", "forwarded", "untrusted_forwarded_for", "malformed_forwarded_for".
const char* ClientAddressSourceName(ClientAddressSource source);

struct ClientAddress {
  std::string address;  // an IPv4 or IPv6 address in canonical text
  ClientAddressSource source = ClientAddressSource::kPeer;
};

// `trusted_proxies`: exact addresses (IPv4 or IPv6 text, compared canonically).
ClientAddress ClientAddressOf(const std::vector<std::pair<std::string, std::string>>& headers,
                              const std::string& peer,
                              const std::vector<std::string>& trusted_proxies);

// The canonical text of an IPv4 or IPv6 address; INVALID_ARGUMENT for anything else.
absl::StatusOr<std::string> CanonicalAddress(const std::string& text);

}  // namespace shadowplane::instance

#endif  // SHADOWPLANE_INSTANCE_CLIENT_ADDRESS_H_
