// Finds lost locations and tells when they may be used again.
//
// A location is lost when its agent and every instance recorded there stayed unreachable for
// `loss_timeout` (--primary_loss_timeout): the agent does not answer (UNAVAILABLE or a deadline)
// and no instance answers its status page. An agent that is down while its instances still answer
// is not a lost location (its primaries' leases decide about them: migration/
// primary_loss_detector.h). A lost location takes nothing new: placement and the planner skip it
// (planner/placement.h), the reservations' reconcile pass builds new shadows elsewhere for the
// shadows it held, and the instances the records no longer hold as live (an old primary whose
// shadow was promoted, a replaced shadow) are deactivated by the orphan reaper once it answers.
// When the agent answers again the location is recovering; it is usable again only once it
// answered without a break for `recovery` (--location_recovery). An unreachable pass during the
// recovery makes it lost again (the recovery starts over).
//
// Metrics: shadowplane_location_losses_total, shadowplane_location_recoveries_total, and
// shadowplane_locations{health} (healthy, lost, recovering). Run by one replica at a time (the
// server wiring holds an advisory lock around RunOnce). Not thread-safe.
#ifndef SHADOWPLANE_RECONCILE_LOCATION_HEALTH_MONITOR_H_
#define SHADOWPLANE_RECONCILE_LOCATION_HEALTH_MONITOR_H_

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "providers/compute_provider.h"
#include "store/inventory_store.h"
#include "store/location_repository.h"

namespace prometheus {
class Counter;
class Gauge;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane::reconcile {

struct LocationHealthOptions {
  absl::Duration loss_timeout = absl::Seconds(30);
  absl::Duration recovery = absl::Minutes(5);
  absl::Duration probe_timeout = absl::Seconds(1);
  // Real time: health is about wall-clock outages, not the domain clock.
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

// What one pass changed.
struct LocationHealthPass {
  int lost = 0;       // newly declared lost
  int answering = 0;  // lost ones that started recovering
  int recovered = 0;  // usable again
};

class LocationHealthMonitor {
 public:
  // `registry` may be null.
  LocationHealthMonitor(store::LocationRepository* locations, store::InventoryStore* inventory,
                        providers::ComputeProvider* compute, LocationHealthOptions options,
                        prometheus::Registry* registry);

  absl::StatusOr<LocationHealthPass> RunOnce();

 private:
  // Whether any instance recorded at `location` answers.
  absl::StatusOr<bool> AnyInstanceAnswers(const std::string& location);

  store::LocationRepository* const locations_;
  store::InventoryStore* const inventory_;
  providers::ComputeProvider* const compute_;
  const LocationHealthOptions options_;
  // Since when each location's agent has not answered (this replica's own observation: a replica
  // that takes over starts the clock again, which only delays a loss).
  std::map<std::string, absl::Time> unreachable_since_;
  prometheus::Counter* losses_ = nullptr;
  prometheus::Counter* recoveries_ = nullptr;
  prometheus::Family<prometheus::Gauge>* health_ = nullptr;
};

}  // namespace shadowplane::reconcile

#endif  // SHADOWPLANE_RECONCILE_LOCATION_HEALTH_MONITOR_H_
