// What the ingest path checks events against: which resources exist, which instances each has
// had, which regions are defined. A snapshot in memory, reloaded in the background and when an
// event names something the snapshot lacks (a resource reserved a moment ago): then the event
// waits for a reload that began after the miss, so anything committed before it is seen. Reloads
// start at most once per `min_reload_interval` however many events miss (a flood of unknown ids
// costs one query per interval, and each such batch waits up to that long). Thread-safe.
#ifndef SHADOWPLANE_INGEST_RESOURCE_DIRECTORY_H_
#define SHADOWPLANE_INGEST_RESOURCE_DIRECTORY_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "store/telemetry_repository.h"

namespace shadowplane::ingest {

struct DirectorySnapshot {
  std::map<std::string, std::set<std::string>> instances_by_resource;
  std::map<std::string, std::string> resource_by_instance;
  std::map<std::string, std::string> location_by_instance;
  std::map<std::string, std::string> team_by_resource;  // those of a team only
  std::set<std::string> regions;
};

// The snapshot of the directory's rows (adds the instance -> resource index).
DirectorySnapshot SnapshotFromRows(store::ResourceDirectoryRows rows);

class ResourceDirectory {
 public:
  // Loads the current rows; called by Reload().
  using Loader = std::function<absl::StatusOr<DirectorySnapshot>()>;

  ResourceDirectory(Loader loader, absl::Duration min_reload_interval)
      : loader_(std::move(loader)), min_reload_interval_(min_reload_interval) {}

  std::shared_ptr<const DirectorySnapshot> Get() const;
  // Reloads now (background refresh).
  absl::Status Reload();
  // For a miss: returns a snapshot loaded after the call began (or the newest, if that load
  // failed).
  std::shared_ptr<const DirectorySnapshot> ReloadAfterMiss();

 private:
  absl::Status ReloadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);

  const Loader loader_;
  const absl::Duration min_reload_interval_;
  absl::Mutex reload_mu_;  // one reload at a time
  absl::Time last_reload_ ABSL_GUARDED_BY(reload_mu_) = absl::InfinitePast();  // when it began
  mutable absl::Mutex mu_;
  std::shared_ptr<const DirectorySnapshot> snapshot_ ABSL_GUARDED_BY(mu_) =
      std::make_shared<DirectorySnapshot>();
};

}  // namespace shadowplane::ingest

#endif  // SHADOWPLANE_INGEST_RESOURCE_DIRECTORY_H_
