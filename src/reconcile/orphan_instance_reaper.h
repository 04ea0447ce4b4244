// Stops instances whose resource no longer exists, or that the database no longer records as live:
// left behind by a release that died half-way, by a migration rolled back while the target's
// location could not be reached, by a restore of an older database, or by hand. Lists every
// location's instances through the compute provider and deactivates (keeping the data, for a person
// to inspect) each running one whose resource is not live. Reconciles: running it again is
// harmless. Thread-compatible.
#ifndef SHADOWPLANE_RECONCILE_ORPHAN_INSTANCE_REAPER_H_
#define SHADOWPLANE_RECONCILE_ORPHAN_INSTANCE_REAPER_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "providers/compute_provider.h"

namespace prometheus {
class Counter;
class Registry;
}  // namespace prometheus

namespace shadowplane::reconcile {

struct OrphanReaperInputs {
  // The locations to look at.
  std::function<absl::StatusOr<std::vector<std::string>>()> locations;
  // Which of these resource ids are live.
  std::function<absl::StatusOr<std::set<std::string>>(const std::vector<std::string>&)>
      live_resources;
  // Optional: which of these instance ids are recorded live. An instance of a live resource that
  // is not (a migration's target abandoned while its location was unreachable) is an orphan too.
  std::function<absl::StatusOr<std::set<std::string>>(const std::vector<std::string>&)>
      recorded_instances;
};

class OrphanInstanceReaper {
 public:
  // `registry` may be null.
  OrphanInstanceReaper(providers::ComputeProvider* compute, OrphanReaperInputs inputs,
                       prometheus::Registry* registry);

  // One pass; the number of instances stopped. A location that cannot be reached is skipped
  // (logged) and does not fail the pass; failing to read the live resources does.
  absl::StatusOr<int> RunOnce();

 private:
  providers::ComputeProvider* const compute_;
  const OrphanReaperInputs inputs_;
  prometheus::Counter* stopped_total_ = nullptr;
};

}  // namespace shadowplane::reconcile

#endif  // SHADOWPLANE_RECONCILE_ORPHAN_INSTANCE_REAPER_H_
