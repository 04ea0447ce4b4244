#include "providers/endpoint.h"

#include <arpa/inet.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shadowplane::providers {

std::string Endpoint::ToString() const {
  return ipv6 ? absl::StrCat("[", address, "]:", port) : absl::StrCat(address, ":", port);
}

absl::StatusOr<Endpoint> ParseAddress(absl::string_view text, int port, absl::string_view field) {
  const std::string s(text);
  Endpoint e;
  e.port = port;
  char buffer[INET6_ADDRSTRLEN];
  in_addr v4;
  in6_addr v6;
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    inet_ntop(AF_INET, &v4, buffer, sizeof(buffer));
  } else if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    inet_ntop(AF_INET6, &v6, buffer, sizeof(buffer));
    e.ipv6 = true;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(field, ": \"", text, "\" is not an IP address"));
  }
  e.address = buffer;
  return e;
}

absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view text, absl::string_view field) {
  absl::string_view host, port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find("]:");
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": \"", text, "\" is not [IPv6]:port"));
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos || text.find(':') != colon) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": \"", text, "\" is not IP:port (IPv6 addresses go in brackets)"));
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  int port = 0;
  if (!absl::SimpleAtoi(port_text, &port) || port < 1 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", text, "\" has no port within 1..65535"));
  }
  return ParseAddress(host, port, field);
}

}  // namespace shadowplane::providers
