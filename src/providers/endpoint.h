// An instance endpoint as traffic sees it: an IP address literal (v4 or v6) and a port. DNS
// records and load balancer servers hold addresses, never names.
#ifndef SHADOWPLANE_PROVIDERS_ENDPOINT_H_
#define SHADOWPLANE_PROVIDERS_ENDPOINT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shadowplane::providers {

struct Endpoint {
  std::string address;  // canonical text of the IP address
  bool ipv6 = false;
  int port = 0;  // 0: any (what a DNS record says)

  // The same address, and the same port unless one of them is 0 (a DNS record holds no port).
  bool Matches(const Endpoint& o) const {
    return address == o.address && (port == 0 || o.port == 0 || port == o.port);
  }
  // "192.0.2.1:8080", "[2001:db8::1]:8080".
  std::string ToString() const;
};

// "IP:port" or "[IPv6]:port". INVALID_ARGUMENT naming `field` for anything else (a host name, no
// port, a port outside 1..65535).
absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view text, absl::string_view field);
// An IP address literal alone, canonicalised; INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<Endpoint> ParseAddress(absl::string_view text, int port, absl::string_view field);

}  // namespace shadowplane::providers

#endif  // SHADOWPLANE_PROVIDERS_ENDPOINT_H_
