#include "ingest/resource_directory.h"

#include "absl/time/clock.h"
#include "common/log.h"

namespace shadowplane::ingest {

std::shared_ptr<const DirectorySnapshot> ResourceDirectory::Get() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

absl::Status ResourceDirectory::Reload() {
  absl::MutexLock reload(&reload_mu_);
  return ReloadLocked();
}

absl::Status ResourceDirectory::ReloadLocked() {
  absl::StatusOr<DirectorySnapshot> loaded = loader_();
  last_reload_ = absl::Now();  // real time: this only paces database reads
  if (!loaded.ok()) return loaded.status();
  auto snapshot = std::make_shared<const DirectorySnapshot>(*std::move(loaded));
  absl::MutexLock lock(&mu_);
  snapshot_ = std::move(snapshot);
  return absl::OkStatus();
}

std::shared_ptr<const DirectorySnapshot> ResourceDirectory::ReloadAfterMiss() {
  {
    absl::MutexLock reload(&reload_mu_);  // misses arriving during a reload wait for it
    if (absl::Now() - last_reload_ >= min_reload_interval_) {
      if (absl::Status s = ReloadLocked(); !s.ok()) {
        LOG_EVENT(kWarning, "reloading resources for ingest failed").Field("error", s);
      }
    }
  }
  return Get();
}

}  // namespace shadowplane::ingest
