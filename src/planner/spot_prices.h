// Spot capacity as the planner sees it: the prices expected over the horizon from what providers
// reported (store/price_repository.h), and the risk of running on spot.
//
// Expected prices: the latest observation, or, when the last 24 hours hold at least
// kMinObservationsForMean observations spanning at least 12 hours, their mean (spot prices over
// the observations since spot was last available again). A location without observations keeps
// its catalog prices. Each location says which it used (`LocationFacts::price_basis`), and every
// decision shows it.
//
// Risk: a location's spot availability is the chance that its spot capacity stays available
// through a day, so the chance of an interruption within a horizon of h hours is
// 1 − availability^(h/24). Its expected cost is that chance times the cost of a fallback (the
// move to on-demand and its write freeze: planner/plan_objective.h's MoveCost).
#ifndef SHADOWPLANE_PLANNER_SPOT_PRICES_H_
#define SHADOWPLANE_PLANNER_SPOT_PRICES_H_

#include <string>

#include "absl/time/time.h"
#include "planner/placement.h"
#include "store/price_repository.h"

namespace shadowplane::planner {

inline constexpr int kMinObservationsForMean = 4;

// Lays `history` over `facts`' catalog prices (see above); sets price_basis, prices_observed_at
// and spot_available_since. When the latest observation offers no spot or reports it unavailable,
// the location offers no spot.
void ApplyPriceHistory(const store::PriceHistory& history, LocationFacts* facts);

// Whether `location` offers spot now: both spot prices and an availability above 0.
bool SpotOffered(const LocationFacts& location);

// 1 − availability^(horizon / 24 h), within [0, 1]; 1 when spot is not available at all.
double InterruptionProbability(double availability, absl::Duration horizon);

// What the spot gates need to know of spot at one location, against on-demand there.
struct SpotCheck {
  bool offered = false;  // a spot price and availability > 0
  // Spot is available again (after it was gone) for at least the return delay, or was never gone.
  bool returned = true;
  absl::Duration available_for = absl::InfiniteDuration();
  double on_demand_per_hour = 0;  // compute at on-demand prices
  double spot_per_hour = 0;       // compute at spot prices
  double risk_per_hour = 0;       // the expected fallback cost, spread over the horizon
  double discount = 0;            // 1 − (spot + risk) / on-demand
  std::string detail;             // one line for the explanation
};

// `fallback_cost` is the cost of one fallback in dollars; `horizon` spreads the risk.
SpotCheck CheckSpot(const LocationFacts& location, const Capacity& capacity, double fallback_cost,
                    absl::Duration horizon, absl::Duration return_after, double min_discount,
                    absl::Time now);

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_PLANNER_SPOT_PRICES_H_
