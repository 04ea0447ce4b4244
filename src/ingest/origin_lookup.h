// The origin resolver the ingest path uses, swapped whole when the operator's client networks
// change (geo_networks is re-read periodically); the GeoIP database, if any, is opened once and
// shared by every generation. Thread-safe.
#ifndef SHADOWPLANE_INGEST_ORIGIN_LOOKUP_H_
#define SHADOWPLANE_INGEST_ORIGIN_LOOKUP_H_

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "geo/cidr_table.h"
#include "geo/geoip_database.h"
#include "geo/origin_resolver.h"

namespace shadowplane::ingest {

class OriginLookup {
 public:
  // `geoip` may be null.
  explicit OriginLookup(std::shared_ptr<const geo::GeoIpDatabase> geoip);

  // Replaces the CIDR table. INVALID_ARGUMENT naming the entry (the old table stays).
  absl::Status SetNetworks(const std::vector<geo::CidrRule>& rules);
  std::shared_ptr<const geo::OriginResolver> Get() const;

 private:
  const std::shared_ptr<const geo::GeoIpDatabase> geoip_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const geo::OriginResolver> resolver_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shadowplane::ingest

#endif  // SHADOWPLANE_INGEST_ORIGIN_LOOKUP_H_
