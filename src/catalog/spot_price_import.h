// AWS's spot price history (`aws ec2 describe-spot-price-history`) as location prices. The
// locations file maps availability zones to locations and instance types to their size and
// on-demand price:
//   aws_spot_mapping:
//     zones: {us-east-1a: iad-1, eu-central-1b: fra-1}
//     instance_types:
//       m5.large: {vcpu: 2, memory_gib: 8, on_demand_price_per_hour: 0.096}
// An entry's spot price over its type's on-demand price is the spot discount; applied to the
// location's on-demand prices per vCPU-hour and GiB-hour it gives the spot prices there. Entries of
// one location and time are averaged, weighted by vCPU. AWS's history carries no availability:
// the rows leave it unreported, so the location's own value (locations file, or a provider's
// report) stands.
#ifndef SHADOWPLANE_CATALOG_SPOT_PRICE_IMPORT_H_
#define SHADOWPLANE_CATALOG_SPOT_PRICE_IMPORT_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/location_repository.h"
#include "store/price_repository.h"

namespace shadowplane::catalog {

struct InstanceTypeSpec {
  double vcpu = 0;
  double memory_gib = 0;
  double on_demand_price_per_hour = 0;
};

struct SpotPriceMapping {
  std::map<std::string, std::string> zones;  // availability zone -> location
  std::map<std::string, InstanceTypeSpec> instance_types;
};

// One entry as AWS prints it (prices and times as text).
struct AwsSpotPriceEntry {
  std::string availability_zone;
  std::string instance_type;
  std::string spot_price;
  std::string timestamp;
};

// At most this many entries (or price reports) per call.
inline constexpr size_t kMaxPriceEntries = 10000;

// INVALID_ARGUMENT naming `field`[i] of the first bad entry: an unknown zone or instance type, a
// price that is not a finite number >= 0, a time that is not RFC 3339 or lies after
// `latest_allowed` (a future observation would stand as the latest), a zone mapped to a location
// not in `locations`; or too many entries.
absl::StatusOr<std::vector<store::PriceRecord>> PricesFromAwsHistory(
    const std::vector<AwsSpotPriceEntry>& entries, const SpotPriceMapping& mapping,
    const std::vector<store::LocationRecord>& locations, const std::string& field,
    absl::Time latest_allowed = absl::InfiniteFuture());

// INVALID_ARGUMENT naming `field`[i] and the value of the first bad report: a bad location name,
// no time or one after `latest_allowed`, a price that is not a finite number >= 0, one spot price
// without the other, an availability outside [0, 1]; or too many.
absl::Status ValidatePriceReports(const std::vector<store::PriceRecord>& reports,
                                  const std::string& field,
                                  absl::Time latest_allowed = absl::InfiniteFuture());

}  // namespace shadowplane::catalog

#endif  // SHADOWPLANE_CATALOG_SPOT_PRICE_IMPORT_H_
