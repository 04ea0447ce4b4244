#include "ingest/resource_directory.h"

#include "absl/time/clock.h"
#include "common/log.h"

namespace shadowplane::ingest {

DirectorySnapshot SnapshotFromRows(store::ResourceDirectoryRows rows) {
  DirectorySnapshot snapshot;
  snapshot.regions = std::move(rows.regions);
  for (const auto& [resource, instances] : rows.instances_by_resource) {
    for (const std::string& instance : instances)
      snapshot.resource_by_instance[instance] = resource;
  }
  snapshot.instances_by_resource = std::move(rows.instances_by_resource);
  snapshot.location_by_instance = std::move(rows.location_by_instance);
  snapshot.team_by_resource = std::move(rows.team_by_resource);
  return snapshot;
}

std::shared_ptr<const DirectorySnapshot> ResourceDirectory::Get() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

absl::Status ResourceDirectory::Reload() {
  absl::MutexLock reload(&reload_mu_);
  return ReloadLocked();
}

absl::Status ResourceDirectory::ReloadLocked() {
  last_reload_ = absl::Now();  // real time: this only paces database reads
  absl::StatusOr<DirectorySnapshot> loaded = loader_();
  if (!loaded.ok()) return loaded.status();
  auto snapshot = std::make_shared<const DirectorySnapshot>(*std::move(loaded));
  absl::MutexLock lock(&mu_);
  snapshot_ = std::move(snapshot);
  return absl::OkStatus();
}

std::shared_ptr<const DirectorySnapshot> ResourceDirectory::ReloadAfterMiss() {
  const absl::Time missed = absl::Now();
  {
    absl::MutexLock reload(&reload_mu_);  // misses arriving meanwhile wait for this reload
    if (last_reload_ < missed) {          // no reload began after the miss: one must
      const absl::Duration wait = last_reload_ + min_reload_interval_ - absl::Now();
      if (wait > absl::ZeroDuration()) absl::SleepFor(wait);
      if (absl::Status s = ReloadLocked(); !s.ok()) {
        LOG_EVENT(kWarning, "reloading resources for ingest failed").Field("error", s);
      }
    }
  }
  return Get();
}

}  // namespace shadowplane::ingest
