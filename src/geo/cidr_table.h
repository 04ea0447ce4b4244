// Client networks to origin regions: a table of CIDR prefixes (IPv4 and IPv6) where the longest
// matching prefix wins. Built once, then read-only and thread-safe.
#ifndef SHADOWPLANE_GEO_CIDR_TABLE_H_
#define SHADOWPLANE_GEO_CIDR_TABLE_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "geo/ip_address.h"

namespace shadowplane::geo {

struct CidrRule {
  std::string cidr;  // "10.0.0.0/8", "2001:db8::/32"
  std::string region;
};

class CidrTable {
 public:
  // INVALID_ARGUMENT naming the entry for a malformed prefix, bits set beyond the prefix length,
  // an empty region, or one prefix given two regions.
  static absl::StatusOr<CidrTable> Build(const std::vector<CidrRule>& rules);

  // The region of the longest prefix holding `ip`; nullopt when none does.
  std::optional<std::string> Lookup(const IpAddress& ip) const;
  size_t size() const { return size_; }

 private:
  using Key = std::array<uint8_t, 16>;
  // Prefix length (over the 128-bit form) -> masked address -> region, longest first.
  std::map<int, std::map<Key, std::string>, std::greater<int>> by_length_;
  size_t size_ = 0;
};

}  // namespace shadowplane::geo

#endif  // SHADOWPLANE_GEO_CIDR_TABLE_H_
