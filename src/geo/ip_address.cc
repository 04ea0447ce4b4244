#include "geo/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace shadowplane::geo {

absl::StatusOr<IpAddress> IpAddress::Parse(absl::string_view text) {
  const std::string s(text);
  IpAddress ip;
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    ip.v4 = true;
    ip.bytes[10] = 0xff;
    ip.bytes[11] = 0xff;
    memcpy(ip.bytes.data() + 12, &v4, 4);
    return ip;
  }
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) {
    // An IPv4-mapped IPv6 address is the IPv4 address.
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    ip.v4 = memcmp(ip.bytes.data(), kMapped, 12) == 0;
    return ip;
  }
  return absl::InvalidArgumentError(absl::StrCat("\"", s, "\" is not an IPv4 or IPv6 address"));
}

std::string IpAddress::ToString() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (v4) {
    inet_ntop(AF_INET, bytes.data() + 12, buffer, sizeof(buffer));
  } else {
    inet_ntop(AF_INET6, bytes.data(), buffer, sizeof(buffer));
  }
  return buffer;
}

}  // namespace shadowplane::geo
