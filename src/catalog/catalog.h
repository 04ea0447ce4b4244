// Regions and locations: validation shared by the API and the start-up file, and the file itself.
//
// The locations file (--locations_file, YAML) declares regions and locations; at start-up each is
// upserted, so the file wins over stale rows it names (rows it does not name are left alone):
//   regions:
//     - {name: eu-central, display_name: Frankfurt, latitude: 50.1, longitude: 8.7}
//   locations:
//     - name: fra-1
//       region: eu-central
//       latitude: 50.1
//       longitude: 8.7
//       agent_endpoint: 127.0.0.1:50061
//       on_demand_price_per_vcpu_hour: 0.048
//       ...every LocationData field by its column name
//   measured_rtts:   # optional: overrides the distance-based RTT estimate
//     - {region: us-east, location: fra-1, rtt_ms: 88}
//   networks:        # optional: client networks -> origin regions (longest prefix wins)
//     - {cidr: 192.0.2.0/24, region: eu-central}
//   aws_spot_mapping:  # optional: for AWS's spot price history (catalog/spot_price_import.h)
//     zones: {eu-central-1a: fra-1}
//     instance_types: {m5.large: {vcpu: 2, memory_gib: 8, on_demand_price_per_hour: 0.096}}
#ifndef SHADOWPLANE_CATALOG_CATALOG_H_
#define SHADOWPLANE_CATALOG_CATALOG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/spot_price_import.h"
#include "store/location_repository.h"
#include "store/telemetry_repository.h"

namespace shadowplane::catalog {

// INVALID_ARGUMENT naming the field: names, coordinates in range, prices and capacity not negative,
// spot availability within [0, 1], both spot prices or neither.
// INVALID_ARGUMENT naming `field` unless `name` is 1 to 63 lower-case letters, digits, '-' or '_'
// (starting with a letter or digit); the message echoes at most 64 bytes of it.
absl::Status ValidateName(const std::string& name, const std::string& field);
absl::Status ValidateRegion(const store::RegionRecord& region);
// INVALID_ARGUMENT naming the field unless the location is well formed, its agent endpoint too
// (ValidateAgentEndpoint) when it has one.
absl::Status ValidateLocation(const store::LocationRecord& location);
// An agent's address is host:port and nothing else: an IPv4 address, a bracketed IPv6 address or
// a DNS name (letters, digits, '-', '.'; at most 253), and a port 1-65535. No scheme (gRPC would
// read "unix:/path" as a local socket), path, user or spaces. INVALID_ARGUMENT naming
// agent_endpoint otherwise.
absl::Status ValidateAgentEndpoint(const std::string& endpoint);

// An RTT an operator measured, which wins over the distance-based estimate.
struct MeasuredRtt {
  std::string region;
  std::string location;
  double rtt_ms = 0;
};

struct CatalogFile {
  std::vector<store::RegionRecord> regions;
  std::vector<store::LocationRecord> locations;
  std::vector<MeasuredRtt> measured_rtts;
  std::vector<store::GeoNetworkRow> networks;
  // For `shadowctl prices import` (catalog/spot_price_import.h); empty when the file has none.
  SpotPriceMapping aws_spot_mapping;
};

// INVALID_ARGUMENT naming the file, the entry and the field on any problem.
absl::StatusOr<CatalogFile> LoadCatalogFile(const std::string& path);

// Upserts regions, locations, then networks, with `now` as their update time.
absl::Status ApplyCatalogFile(const CatalogFile& file, store::LocationRepository& repository,
                              store::TelemetryRepository& telemetry, absl::Time now);

}  // namespace shadowplane::catalog

#endif  // SHADOWPLANE_CATALOG_CATALOG_H_
