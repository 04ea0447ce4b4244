// The planner's objective: what serving a resource from one location costs over the planning
// horizon, in dollars, per joint sample path of the forecast; and what moving it there costs once.
//
//   compute + electricity = placement's CostAt (per hour, at the primary's capacity and capacity
//                           type) × horizon hours
//   latency               = Σ regions requests × RTT(region, location) ms × latency price per
//                           request-millisecond
//   egress                = Σ regions requests × bytes per request / 1e9 × the location's
//                           bandwidth price per GB
//   move                  = data bytes / 1e9 × the source's bandwidth price per GB
//                           + expected write freeze (s) / 3600 × requests per hour at the move
//                           × price of a delayed request
//                           + affine client sessions expected at the cutover × price of a
//                           disrupted session
//
// Latency and egress are linear in demand, so each path's cost is one dot product of its per-region
// request sums with per-region unit costs.
#ifndef SHADOWPLANE_PLANNER_PLAN_OBJECTIVE_H_
#define SHADOWPLANE_PLANNER_PLAN_OBJECTIVE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/capacity.h"
#include "geo/distance.h"
#include "planner/demand_outlook.h"
#include "planner/placement.h"

namespace shadowplane::planner {

struct PlanPrices {
  // Dollars per request per millisecond of round-trip time (5e-7: a million requests 100 ms
  // further away cost $50).
  double latency_price_per_request_ms = 5e-7;
  // Dollars per request held by a cutover's write freeze.
  double delayed_request_price = 0.001;
  // Dollars per affine client session a cutover disrupts (a client seen within the affinity
  // session window: its requests held, forwarded or failed, its kept-alive connection closed).
  double disrupted_session_price = 0.01;
};

// One location's cost over the horizon, in dollars.
struct LocationTerms {
  std::string location;
  double compute = 0;
  double electricity = 0;
  // From the point forecast.
  double latency = 0;
  double egress = 0;
  double latency_ms = 0;  // the expected requests' mean RTT
  // Per sample path: compute + electricity + latency + egress. Empty without paths.
  std::vector<double> path_total;
  // Per origin region of the demand: dollars per request served from here (latency + egress), so
  // that any hour's cost is fixed()/hours + Σ requests × unit cost.
  std::vector<double> unit_cost;
  // On spot: the chance of an interruption over the horizon times the cost of a fallback
  // (planner/spot_prices.h), in `fixed()` and every path's total. 0 on on-demand.
  double spot_risk = 0;
  double interruption_probability = 0;

  double fixed() const { return compute + electricity + spot_risk; }
  double expected_total() const { return fixed() + latency + egress; }
};

// FAILED_PRECONDITION saying which price is missing (not a finite number >= 0, an on-demand vCPU
// price of 0) or that spot is asked for and not offered; NOT_FOUND for an origin region the
// catalog does not hold.
absl::StatusOr<LocationTerms> EvaluateLocation(const LocationFacts& location,
                                               const Capacity& capacity, absl::Duration horizon,
                                               const DemandOutlook& demand,
                                               const std::map<std::string, RegionFacts>& regions,
                                               const geo::RttModel& rtt, const PlanPrices& prices);

struct MoveFacts {
  int64_t data_bytes = 0;
  // The freeze model's expected write freeze for this resource's size.
  double expected_freeze_seconds = 0;
  // Affine client sessions expected at the cutover (planner/cutover_timing.h scales today's).
  double affine_sessions = 0;
};

// The affine sessions' part of MoveCost.
double AffinityCost(const MoveFacts& move, const PlanPrices& prices);

// The one-off cost of moving out of `source`, in dollars.
double MoveCost(const LocationFacts& source, const MoveFacts& move, const DemandOutlook& demand,
                const PlanPrices& prices);

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_PLANNER_PLAN_OBJECTIVE_H_
