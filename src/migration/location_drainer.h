// Maintenance: moves everything out of a location before it is taken down.
//
// Start cordons the location (nothing new is placed or moved into it) and records when its drain
// started. Each pass (RunOnce, every --failover_check_interval under an advisory lock) then asks
// for a planned migration of every primary still there, to its shadow's location when that is
// usable (the shadow holds the data: the cheapest cutover), else to the best usable location the
// reservation's placement allows. Request ids are "drain-<location>-<instance>", so a pass asks
// for each move once. Drains stay within the planner's fleet budget: a move is asked for only while
// the planned moves created in the last hour (the planner's and the drains') stay under
// --max_planned_moves_per_hour, and the drains' moves count against the planner's budget in turn.
// The migrator runs at most --max_migrations at a time (--max_migrations_per_location per
// location), the same concurrency every migration shares, and the drainer keeps at most that many
// of its own moves asked for and unfinished. The shadows left
// in the location (an old primary kept as the shadow, or a shadow placed there) are rebuilt
// elsewhere by the reservations' reconcile pass (reservation/shadow_replacement.cc). A move that
// A lost location's primaries are left to fail over (a planned move needs its source). A move that
// ended without moving the primary (rolled back, failed) is reported as blocked, with its error,
// and not asked again; end the drain and start it again to retry. UncordonLocation (or Uncordon:
// store/location_repository.h SetDrain) ends the drain and the cordon; moves already asked for run
// to their end.
//
// Metrics: shadowplane_location_drain_moves_total{result} (requested, refused, budget), and the
// progress of each draining location in shadowplane_location_drain_left{kind} (primaries,
// shadows, summed over draining locations). Thread-compatible: one RunOnce at a time.
#ifndef SHADOWPLANE_MIGRATION_LOCATION_DRAINER_H_
#define SHADOWPLANE_MIGRATION_LOCATION_DRAINER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "geo/distance.h"
#include "migration/migration_manager.h"
#include "planner/placement.h"
#include "store/decision_repository.h"
#include "store/location_repository.h"
#include "store/reservation_repository.h"

namespace prometheus {
class Counter;
class Gauge;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane::migration {

struct DrainOptions {
  // Drain moves asked for and unfinished at once, per location.
  int max_in_flight = 4;
  // The fleet's budget of planned moves per hour (--max_planned_moves_per_hour), shared with the
  // planner: a drain asks for a move only while the planned moves created in the last hour, the
  // planner's and the drains', stay under it.
  int max_moves_per_hour = 20;
  planner::CostModel cost;
  geo::RttModel rtt;
};

struct DrainProgress {
  store::LocationRecord location;
  int primaries_left = 0;  // primaries still running there
  int shadows_left = 0;    // shadows still there
  int moves_in_flight = 0;
  // One line per primary that cannot be moved now, saying why.
  std::vector<std::string> blocked;
  bool done() const { return primaries_left == 0 && shadows_left == 0; }
};

class LocationDrainer {
 public:
  // `registry` may be null.
  LocationDrainer(store::LocationRepository* locations, store::ReservationRepository* reservations,
                  store::DecisionRepository* decisions, MigrationManager* migrations,
                  const Clock* clock, DrainOptions options, prometheus::Registry* registry);

  // Starts a drain (idempotent: a draining location keeps its start). NOT_FOUND for an unknown
  // location. Returns the progress.
  absl::StatusOr<DrainProgress> Start(const std::string& location, const std::string& reason);
  // The drain's progress; FAILED_PRECONDITION when the location is not draining.
  absl::StatusOr<DrainProgress> Progress(const std::string& location);
  // One pass over every draining location: asks for the moves it may.
  absl::Status RunOnce();

 private:
  // Walks the location's reservations; given the catalog (a pass), asks for the moves it may.
  absl::StatusOr<DrainProgress> Walk(const store::LocationRecord& location,
                                     const store::LocationCatalog* catalog);
  // Where a primary at the draining location goes.
  absl::StatusOr<std::string> TargetFor(const store::ReservationRecord& r,
                                        const store::LocationCatalog& catalog);

  store::LocationRepository* const locations_;
  store::ReservationRepository* const reservations_;
  store::DecisionRepository* const decisions_;
  MigrationManager* const migrations_;
  const Clock* const clock_;
  const DrainOptions options_;
  prometheus::Family<prometheus::Counter>* moves_ = nullptr;
  prometheus::Family<prometheus::Gauge>* left_ = nullptr;
};

}  // namespace shadowplane::migration

#endif  // SHADOWPLANE_MIGRATION_LOCATION_DRAINER_H_
