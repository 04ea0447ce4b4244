// A snapshot of all regions and locations, re-read from the database when it is older than `ttl`
// (real time) or after this process changed one. Read RPCs (ListLocations, GetLocation, ...)
// answer from it: locations change rarely and are read often, and the capacity in use it shows may
// lag by up to `ttl`. Placement does not use it: it reads fresh rows. Thread-safe.
#ifndef SHADOWPLANE_CATALOG_LOCATION_CACHE_H_
#define SHADOWPLANE_CATALOG_LOCATION_CACHE_H_

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "store/location_repository.h"

namespace shadowplane::catalog {

using CatalogSnapshot = store::LocationCatalog;

class LocationCache {
 public:
  LocationCache(store::LocationRepository* repository, absl::Duration ttl)
      : repository_(repository), ttl_(ttl) {}

  absl::StatusOr<std::shared_ptr<const CatalogSnapshot>> Snapshot();
  // The next Snapshot() reads the database again.
  void Invalidate();

 private:
  store::LocationRepository* const repository_;
  const absl::Duration ttl_;
  absl::Mutex mu_;
  std::shared_ptr<const CatalogSnapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  absl::Time loaded_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace shadowplane::catalog

#endif  // SHADOWPLANE_CATALOG_LOCATION_CACHE_H_
