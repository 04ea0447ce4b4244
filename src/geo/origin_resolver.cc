#include "geo/origin_resolver.h"

namespace shadowplane::geo {

Origin OriginResolver::Resolve(const IpAddress& ip, absl::string_view event_region) const {
  if (!event_region.empty()) return {std::string(event_region), OriginSource::kEvent};
  if (std::optional<std::string> region = cidr_.Lookup(ip)) {
    return {*std::move(region), OriginSource::kCidr};
  }
  if (geoip_ != nullptr) {
    // A database error for one address is no reason to lose the event: it counts as unknown.
    absl::StatusOr<std::optional<std::string>> region = geoip_->Lookup(ip);
    if (region.ok() && region->has_value()) return {**std::move(region), OriginSource::kGeoIp};
  }
  return {kUnknownRegion, OriginSource::kUnknown};
}

}  // namespace shadowplane::geo
