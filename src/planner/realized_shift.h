// When did the demand a move was made for arrive? The planner's objective
// (planner/plan_objective.h) evaluated on each hour's realised demand names the location cheapest
// to serve that hour from; the demand shift is the first hour in which another location than the
// old one became the cheapest. For a move from A to B that started at S:
//
//   - B already cheapest in S's hour: the shift is the first hour of that run of hours with B
//     cheapest (walking back from S); the move started after the shift, late.
//   - otherwise: the first hour after S's in which B is the cheapest; the move started ahead of
//     it by the difference.
//   - B never the cheapest in the hours observed: no shift (the move was made for a shift that did
//     not come).
//
// Each location is costed at the capacity it would run with: the old one at the old primary's,
// every other at the new primary's. Hours with no record have no demand (the fixed costs decide).
// Pure: no clock, no database.
#ifndef SHADOWPLANE_PLANNER_REALIZED_SHIFT_H_
#define SHADOWPLANE_PLANNER_REALIZED_SHIFT_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/capacity.h"
#include "geo/distance.h"
#include "planner/placement.h"
#include "planner/plan_objective.h"

namespace shadowplane::planner {

// One origin region's realised demand in one hour.
struct HourlyRegionDemand {
  absl::Time hour;  // its start
  std::string region;
  double requests = 0;
  double bytes_out = 0;
};

struct ShiftQuestion {
  std::string old_location;
  std::string new_location;
  Capacity old_capacity;
  Capacity new_capacity;
  absl::Time started_at;
  // The hours observed: [from, until), whole hours from `from`'s.
  absl::Time from;
  absl::Time until;
  std::vector<HourlyRegionDemand> demand;  // any order; regions the catalog lacks are left out
};

struct RealizedShift {
  // The start of the shift's hour; unset when the new location was never the cheapest.
  std::optional<absl::Time> shift_at;
  // The new location was the cheapest from the first hour observed: the shift came then or
  // earlier (shift_at is the first hour observed).
  bool at_or_before = false;
  // Per hour observed, from `from`'s: the cheapest location ("" when none could be costed).
  std::vector<std::string> cheapest;
  absl::Time started_at;  // the question's
  // shift_at − started_at: positive when the move started ahead of the shift; 0 without one.
  absl::Duration lead() const {
    return shift_at.has_value() ? *shift_at - started_at : absl::ZeroDuration();
  }
};

// INVALID_ARGUMENT for an empty or inverted window, or one over `kMaxShiftHours`; NOT_FOUND
// when the old or the new location is not in `locations`; FAILED_PRECONDITION (from
// EvaluateLocation) when either of them lacks a price. Other locations without prices are left
// out.
inline constexpr int kMaxShiftHours = 24 * 31;
absl::StatusOr<RealizedShift> RealizedShiftOf(const ShiftQuestion& question,
                                              const std::map<std::string, LocationFacts>& locations,
                                              const std::map<std::string, RegionFacts>& regions,
                                              const geo::RttModel& rtt, const PlanPrices& prices);

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_PLANNER_REALIZED_SHIFT_H_
