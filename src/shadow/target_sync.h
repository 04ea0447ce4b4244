// What a migration needs of shadow sync: one round from a reservation's primary into a given
// instance of its resource. ShadowSyncer (shadow/shadow_syncer.h) implements it over the agents;
// in-process tests of the migration steps script it.
#ifndef SHADOWPLANE_SHADOW_TARGET_SYNC_H_
#define SHADOWPLANE_SHADOW_TARGET_SYNC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "store/sync_run_repository.h"

namespace shadowplane::shadow {

enum class SyncTrigger { kPeriodic, kManual, kFull, kFinal };
const char* SyncTriggerName(SyncTrigger trigger);

struct DirtyFile {
  std::string path;
  int64_t size = 0;
};

struct SyncOutcome {
  store::SyncRunRecord run;
  std::vector<DirtyFile> dirty;
};

class TargetSync {
 public:
  virtual ~TargetSync() = default;

  // One round from the primary of `reservation_id` into `target_instance_id` (a live instance of
  // its resource), recorded in sync_runs. kFull checksums every file; kFinal is a final round
  // (the source must be frozen) over `final_paths` (empty: all). FAILED_PRECONDITION when the
  // target is not such an instance or not running; ABORTED when a round of the reservation is
  // running; the agent's error for a failed round.
  virtual absl::StatusOr<SyncOutcome> SyncInto(
      const std::string& reservation_id, const std::string& target_instance_id, SyncTrigger trigger,
      const std::vector<std::string>& final_paths = {}) = 0;
};

}  // namespace shadowplane::shadow

#endif  // SHADOWPLANE_SHADOW_TARGET_SYNC_H_
