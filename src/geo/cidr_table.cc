#include "geo/cidr_table.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shadowplane::geo {

namespace {

std::array<uint8_t, 16> Mask(const std::array<uint8_t, 16>& bytes, int length) {
  std::array<uint8_t, 16> out{};
  for (int i = 0; i < 16; ++i) {
    int bits = std::min(8, std::max(0, length - 8 * i));
    out[i] = bits == 0 ? 0 : static_cast<uint8_t>(bytes[i] & (0xff << (8 - bits)));
  }
  return out;
}

}  // namespace

absl::StatusOr<CidrTable> CidrTable::Build(const std::vector<CidrRule>& rules) {
  CidrTable table;
  for (const CidrRule& rule : rules) {
    auto refuse = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("network \"", rule.cidr, "\" (region \"", rule.region, "\"): ", why));
    };
    if (rule.region.empty()) return refuse("region is empty");
    const size_t slash = rule.cidr.find('/');
    if (slash == std::string::npos) return refuse("expected ADDRESS/LENGTH");
    absl::StatusOr<IpAddress> ip = IpAddress::Parse(rule.cidr.substr(0, slash));
    if (!ip.ok()) return refuse(ip.status().message());
    int length = 0;
    const int max = ip->v4 ? 32 : 128;
    if (!absl::SimpleAtoi(rule.cidr.substr(slash + 1), &length) || length < 0 || length > max) {
      return refuse(absl::StrCat("prefix length must be 0 to ", max));
    }
    const int bits = ip->v4 ? 96 + length : length;
    const auto key = Mask(ip->bytes, bits);
    if (key != ip->bytes) return refuse("address has bits set beyond the prefix length");
    auto [it, inserted] = table.by_length_[bits].emplace(key, rule.region);
    if (!inserted && it->second != rule.region) {
      return refuse(absl::StrCat("already mapped to region \"", it->second, "\""));
    }
    table.size_ += inserted ? 1 : 0;
  }
  return table;
}

std::optional<std::string> CidrTable::Lookup(const IpAddress& ip) const {
  for (const auto& [length, networks] : by_length_) {
    auto it = networks.find(Mask(ip.bytes, length));
    if (it != networks.end()) return it->second;
  }
  return std::nullopt;
}

}  // namespace shadowplane::geo
