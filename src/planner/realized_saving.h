// Did a move pay? The planner's objective (planner/plan_objective.h) evaluated on what happened
// instead of what was forecast: the old and the new location's cost over the observed window for
// the realised demand, less the move's realised cost (the bytes the move sent at the source's
// bandwidth price, the write freeze as it was × the requests an hour around it × the price of
// a delayed request, and the affine clients it disrupted × the price of a disrupted session). A
// move paid off when this saving is positive.
#ifndef SHADOWPLANE_PLANNER_REALIZED_SAVING_H_
#define SHADOWPLANE_PLANNER_REALIZED_SAVING_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/capacity.h"
#include "geo/distance.h"
#include "planner/placement.h"
#include "planner/plan_objective.h"

namespace shadowplane::planner {

struct RealizedMove {
  Capacity old_capacity;  // the primary's before the move
  Capacity new_capacity;  // and after
  absl::Duration window;  // observed, from the traffic switch
  // Requests per origin region in the window; regions the catalog does not hold are left out.
  std::map<std::string, double> requests;
  // Bytes served per request, per region (absent: 0).
  std::map<std::string, double> bytes_per_request;
  int64_t bytes_transferred = 0;  // every sync round of the move, on the wire
  double freeze_seconds = 0;
  double requests_per_hour_at_move = 0;
  // Affine clients the move disrupted, as counted (migration/disruption_count.h).
  int64_t disrupted_sessions = 0;
};

struct RealizedSaving {
  LocationTerms old_terms;
  LocationTerms new_terms;
  double move_cost = 0;
  // old − new − move, dollars over the window.
  double saving = 0;
};

// Realised demand as an outlook with no sample paths (its point "forecast" is what came): requests
// and bytes served per request, by origin region; regions `regions` lacks are left out.
DemandOutlook RealizedOutlook(const std::map<std::string, double>& requests,
                              const std::map<std::string, double>& bytes_per_request,
                              const std::map<std::string, RegionFacts>& regions);

// FAILED_PRECONDITION (from EvaluateLocation) when either location lacks a price.
absl::StatusOr<RealizedSaving> RealizedSavingOf(const LocationFacts& old_location,
                                                const LocationFacts& new_location,
                                                const RealizedMove& move,
                                                const std::map<std::string, RegionFacts>& regions,
                                                const geo::RttModel& rtt, const PlanPrices& prices);

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_PLANNER_REALIZED_SAVING_H_
