#include "catalog/location_cache.h"

#include "absl/time/clock.h"
#include "common/status_macros.h"

namespace shadowplane::catalog {

absl::StatusOr<std::shared_ptr<const CatalogSnapshot>> LocationCache::Snapshot() {
  // One reload at a time; callers meanwhile wait for it rather than all hitting the database.
  absl::MutexLock lock(&mu_);
  if (snapshot_ != nullptr && absl::Now() - loaded_at_ < ttl_) return snapshot_;
  ASSIGN_OR_RETURN(store::LocationCatalog catalog, repository_->LoadAll());
  auto fresh = std::make_shared<const CatalogSnapshot>(std::move(catalog));
  snapshot_ = std::move(fresh);
  loaded_at_ = absl::Now();
  return snapshot_;
}

void LocationCache::Invalidate() {
  absl::MutexLock lock(&mu_);
  loaded_at_ = absl::InfinitePast();
}

}  // namespace shadowplane::catalog
