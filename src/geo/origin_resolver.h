// Where a client access came from, as an origin region: the event's own region when an edge
// proxy already knew it, else the longest matching network of the CIDR table, else the GeoIP
// database when one is configured, else "unknown" (counted, never dropped). Thread-safe.
#ifndef SHADOWPLANE_GEO_ORIGIN_RESOLVER_H_
#define SHADOWPLANE_GEO_ORIGIN_RESOLVER_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "geo/cidr_table.h"
#include "geo/geoip_database.h"
#include "geo/ip_address.h"

namespace shadowplane::geo {

inline constexpr char kUnknownRegion[] = "unknown";

enum class OriginSource { kEvent, kCidr, kGeoIp, kUnknown };

struct Origin {
  std::string region;
  OriginSource source = OriginSource::kUnknown;
};

class OriginResolver {
 public:
  // `geoip` may be null.
  OriginResolver(CidrTable cidr, std::shared_ptr<const GeoIpDatabase> geoip)
      : cidr_(std::move(cidr)), geoip_(std::move(geoip)) {}

  Origin Resolve(const IpAddress& ip, absl::string_view event_region = "") const;

 private:
  const CidrTable cidr_;
  const std::shared_ptr<const GeoIpDatabase> geoip_;
};

}  // namespace shadowplane::geo

#endif  // SHADOWPLANE_GEO_ORIGIN_RESOLVER_H_
