// Where a resource's primary and shadow go. One cost function, in dollars per hour, in the
// planner's units (planner/plan_objective.h), so that a fresh placement is never "wrong" by the
// planner's own measure:
//   latency     = Σ over expected client regions of weight × RTT(region, location) ms, times
//                 nominal_requests_per_hour × latency_price_per_request_ms (weights normalised to
//                 sum to 1: a resource without demand yet is priced as if it had the nominal rate,
//                 spread as its clients are expected; none: no latency term)
//   compute     = vCPU × price per vCPU-hour + GiB × price per GiB-hour (spot or on-demand prices)
//   electricity = vCPU × power draw per vCPU (W) / 1000 × price per kWh
// The primary goes to the allowed location with the lowest total that has room; the shadow to the
// allowed location with the lowest compute + electricity cost at its (smaller) capacity that lies
// in another region at least min_shadow_distance_km away. Spot is used where asked for, offered
// (a spot price and availability > 0) and at least spot_min_discount cheaper than on-demand with
// its risk counted; elsewhere the location is weighed at on-demand, and placement says so.
#ifndef SHADOWPLANE_PLANNER_PLACEMENT_H_
#define SHADOWPLANE_PLANNER_PLACEMENT_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/capacity.h"
#include "geo/distance.h"

namespace shadowplane::planner {

struct RegionFacts {
  std::string name;
  geo::Coordinates at;
};

struct LocationFacts {
  std::string name;
  std::string region;
  geo::Coordinates at;
  double on_demand_price_per_vcpu_hour = 0;
  double on_demand_price_per_gib_hour = 0;
  std::optional<double> spot_price_per_vcpu_hour;
  std::optional<double> spot_price_per_gib_hour;
  // The chance that spot capacity stays available through a day, 0..1.
  double spot_availability = 0;
  // Where the prices come from (planner/spot_prices.h): "catalog" (the location's own),
  // "latest" (the latest observation, at prices_observed_at) or "trailing_mean_of_N".
  std::string price_basis = "catalog";
  std::optional<absl::Time> prices_observed_at;
  // Since when spot is available again after it was last gone; absent: never reported gone.
  std::optional<absl::Time> spot_available_since;
  double electricity_price_per_kwh = 0;
  double power_draw_watts_per_vcpu = 0;
  double bandwidth_price_per_gb = 0;  // egress
  // Closed to new primaries by an operator: the planner moves nothing into it.
  bool cordoned = false;
  // Lost, or not yet healthy again for --location_recovery (reconcile/location_health_monitor.h):
  // nothing is placed or moved into it.
  bool lost = false;
  int64_t capacity_millicores = 0;
  int64_t capacity_memory_mib = 0;
  // Held by live instances now.
  int64_t used_millicores = 0;
  int64_t used_memory_mib = 0;
};

struct ClientRegionWeight {
  std::string region;
  double weight = 1;
};

struct CostModel {
  // Dollars per request per millisecond of RTT: the planner's latency price.
  double latency_price_per_request_ms = 5e-7;
  // The requests per hour a resource without demand is priced at.
  double nominal_requests_per_hour = 1000;
  double min_shadow_distance_km = 500;
  // Spot is used at a location only when it is at least this much cheaper than on-demand there,
  // the risk of an interruption counted (planner/spot_prices.h) at ...
  double spot_min_discount = 0.3;
  // ... this cost of a fallback in dollars (a new resource has little data to move), and only once
  // spot that was gone has been available again for this long (PlacementRequest::now).
  double spot_fallback_cost = 0.01;
  absl::Duration spot_return_after = absl::ZeroDuration();
};

struct LocationCost {
  double latency_ms = 0;
  double latency = 0;
  double compute = 0;
  double electricity = 0;
  double total() const { return latency + compute + electricity; }
};

struct PlacementRequest {
  Capacity capacity;
  double shadow_capacity_fraction = 0.25;
  // Allowed: these locations and every location in these regions; both empty: any location.
  std::vector<std::string> locations;
  std::vector<std::string> regions;
  std::vector<ClientRegionWeight> client_regions;
  // Domain time, for spot's return delay (CostModel::spot_return_after); InfiniteFuture: ignored.
  absl::Time now = absl::InfiniteFuture();
};

struct Placement {
  std::string primary_location;
  Capacity primary_capacity;
  LocationCost primary_cost;
  std::string shadow_location;
  Capacity shadow_capacity;
  LocationCost shadow_cost;
  double shadow_distance_km = 0;
  std::string explanation;
};

struct ShadowPlacement {
  std::string location;
  Capacity capacity;
  LocationCost cost;
  double distance_km = 0;
  std::string explanation;
};

// Whether `capacity` fits in what `location` has free.
bool HasRoom(const LocationFacts& location, const Capacity& capacity);

// The shadow's capacity: the fraction of the primary's, rounded up, at least 1 millicore and 1 MiB.
Capacity ShadowCapacity(const Capacity& primary, double fraction);

// The cost of running `capacity` at `location` for clients in `clients`. FAILED_PRECONDITION when
// spot is asked for and the location offers none.
absl::StatusOr<LocationCost> CostAt(const LocationFacts& location, const Capacity& capacity,
                                    const std::vector<ClientRegionWeight>& clients,
                                    const std::map<std::string, RegionFacts>& regions,
                                    const geo::RttModel& rtt, const CostModel& model);

// The locations a placement set allows: the named ones and every location of the named regions;
// both empty: every location. NOT_FOUND for an unknown name; INVALID_ARGUMENT when none is left.
absl::StatusOr<std::vector<std::string>> AllowedLocations(
    const std::vector<std::string>& named_locations, const std::vector<std::string>& named_regions,
    const std::map<std::string, LocationFacts>& locations,
    const std::map<std::string, RegionFacts>& regions);

// NOT_FOUND for an unknown location or region (in the request or in client_regions);
// INVALID_ARGUMENT when the allowed set is empty; RESOURCE_EXHAUSTED when no allowed location has
// room for the primary; FAILED_PRECONDITION, saying why, when no location satisfies the shadow
// rule.
// Where a new shadow goes for a primary at `primary_location` (a shadow lost with its location):
// the cheapest of `allowed` by the same rule as Place's shadow. NOT_FOUND for an unknown primary
// location; FAILED_PRECONDITION, saying why, when no allowed location satisfies the rule.
absl::StatusOr<ShadowPlacement> PlaceShadow(const std::string& primary_location,
                                            const Capacity& shadow_capacity,
                                            const std::vector<std::string>& allowed,
                                            const std::map<std::string, LocationFacts>& locations,
                                            const std::map<std::string, RegionFacts>& regions,
                                            const geo::RttModel& rtt, const CostModel& model);

absl::StatusOr<Placement> Place(const PlacementRequest& request,
                                const std::map<std::string, LocationFacts>& locations,
                                const std::map<std::string, RegionFacts>& regions,
                                const geo::RttModel& rtt, const CostModel& model);

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_PLANNER_PLACEMENT_H_
