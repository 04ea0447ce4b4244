#include "ingest/origin_lookup.h"

#include "common/status_macros.h"

namespace shadowplane::ingest {

OriginLookup::OriginLookup(std::shared_ptr<const geo::GeoIpDatabase> geoip)
    : geoip_(std::move(geoip)),
      resolver_(std::make_shared<geo::OriginResolver>(*geo::CidrTable::Build({}), geoip_)) {}

absl::Status OriginLookup::SetNetworks(const std::vector<geo::CidrRule>& rules) {
  ASSIGN_OR_RETURN(geo::CidrTable table, geo::CidrTable::Build(rules));
  auto resolver = std::make_shared<const geo::OriginResolver>(std::move(table), geoip_);
  absl::MutexLock lock(&mu_);
  resolver_ = std::move(resolver);
  return absl::OkStatus();
}

std::shared_ptr<const geo::OriginResolver> OriginLookup::Get() const {
  absl::MutexLock lock(&mu_);
  return resolver_;
}

}  // namespace shadowplane::ingest
