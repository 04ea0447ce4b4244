// An IPv4 or IPv6 address as 16 bytes (IPv4 as ::ffff:a.b.c.d), so that one table serves both.
#ifndef SHADOWPLANE_GEO_IP_ADDRESS_H_
#define SHADOWPLANE_GEO_IP_ADDRESS_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shadowplane::geo {

struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;

  // INVALID_ARGUMENT naming the text unless it is a dotted-quad IPv4 or an IPv6 address.
  static absl::StatusOr<IpAddress> Parse(absl::string_view text);
  std::string ToString() const;
  bool operator==(const IpAddress& o) const { return bytes == o.bytes; }
};

}  // namespace shadowplane::geo

#endif  // SHADOWPLANE_GEO_IP_ADDRESS_H_
