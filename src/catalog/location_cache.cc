#include "catalog/location_cache.h"

#include "absl/time/clock.h"
#include "common/status_macros.h"

namespace shadowplane::catalog {

absl::StatusOr<std::shared_ptr<const CatalogSnapshot>> LocationCache::Snapshot() {
  // One reload at a time; callers meanwhile wait for it rather than all hitting the database.
  absl::MutexLock lock(&mu_);
  if (snapshot_ != nullptr && absl::Now() - loaded_at_ < ttl_) return snapshot_;
  auto fresh = std::make_shared<CatalogSnapshot>();
  store::Page page;
  page.page_size = 1000;
  while (true) {
    ASSIGN_OR_RETURN(auto batch, repository_->ListRegions(page));
    fresh->regions.insert(fresh->regions.end(), batch.begin(), batch.end());
    if (batch.size() < static_cast<size_t>(page.page_size)) break;
    page.after = batch.back().name;
  }
  page.after.clear();
  while (true) {
    ASSIGN_OR_RETURN(auto batch, repository_->ListLocations(page, ""));
    fresh->locations.insert(fresh->locations.end(), batch.begin(), batch.end());
    if (batch.size() < static_cast<size_t>(page.page_size)) break;
    page.after = batch.back().name;
  }
  snapshot_ = std::move(fresh);
  loaded_at_ = absl::Now();
  return snapshot_;
}

void LocationCache::Invalidate() {
  absl::MutexLock lock(&mu_);
  loaded_at_ = absl::InfinitePast();
}

}  // namespace shadowplane::catalog
