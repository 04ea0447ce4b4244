#include "planner/placement.h"

#include <cmath>
#include <functional>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "planner/spot_prices.h"

namespace shadowplane::planner {
namespace {

bool Offers(const LocationFacts& l, CapacityType type) {
  if (type == CapacityType::kOnDemand) return true;
  return SpotOffered(l);
}

// The cheapest allowed location for `capacity` that `eligible` accepts; ties go to the name.
struct Candidate {
  const LocationFacts* location = nullptr;
  LocationCost cost;
  Capacity capacity;
};

}  // namespace

bool HasRoom(const LocationFacts& l, const Capacity& c) {
  return l.used_millicores + c.millicores <= l.capacity_millicores &&
         l.used_memory_mib + c.memory_mib <= l.capacity_memory_mib;
}

Capacity ShadowCapacity(const Capacity& primary, double fraction) {
  Capacity shadow = primary;
  shadow.millicores = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(static_cast<double>(primary.millicores) * fraction)));
  shadow.memory_mib = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(static_cast<double>(primary.memory_mib) * fraction)));
  return shadow;
}

absl::StatusOr<LocationCost> CostAt(const LocationFacts& l, const Capacity& capacity,
                                    const std::vector<ClientRegionWeight>& clients,
                                    const std::map<std::string, RegionFacts>& regions,
                                    const geo::RttModel& rtt, const CostModel& model) {
  if (!Offers(l, capacity.type)) {
    return absl::FailedPreconditionError(
        absl::StrCat("location ", l.name, " offers no spot capacity"));
  }
  LocationCost cost;
  const double vcpu = static_cast<double>(capacity.millicores) / 1000.0;
  const double gib = static_cast<double>(capacity.memory_mib) / 1024.0;
  const bool spot = capacity.type == CapacityType::kSpot;
  cost.compute = vcpu * (spot ? *l.spot_price_per_vcpu_hour : l.on_demand_price_per_vcpu_hour) +
                 gib * (spot ? *l.spot_price_per_gib_hour : l.on_demand_price_per_gib_hour);
  cost.electricity = vcpu * l.power_draw_watts_per_vcpu / 1000.0 * l.electricity_price_per_kwh;
  double total_weight = 0;
  for (const ClientRegionWeight& c : clients) total_weight += c.weight;
  if (total_weight > 0) {
    for (const ClientRegionWeight& c : clients) {
      const auto region = regions.find(c.region);
      if (region == regions.end())
        return absl::NotFoundError(absl::StrCat("unknown region ", c.region));
      cost.latency_ms +=
          c.weight / total_weight * rtt.RttMs(c.region, region->second.at, l.name, l.at);
    }
    cost.latency =
        cost.latency_ms * model.nominal_requests_per_hour * model.latency_price_per_request_ms;
  }
  return cost;
}

absl::StatusOr<std::vector<std::string>> AllowedLocations(
    const std::vector<std::string>& named_locations, const std::vector<std::string>& named_regions,
    const std::map<std::string, LocationFacts>& locations,
    const std::map<std::string, RegionFacts>& regions) {
  std::set<std::string> allowed;
  for (const std::string& name : named_locations) {
    if (locations.count(name) == 0) {
      return absl::NotFoundError(absl::StrCat("location '", name, "' does not exist"));
    }
    allowed.insert(name);
  }
  for (const std::string& region : named_regions) {
    if (regions.count(region) == 0) {
      return absl::NotFoundError(absl::StrCat("region '", region, "' does not exist"));
    }
    for (const auto& [name, l] : locations) {
      if (l.region == region) allowed.insert(name);
    }
  }
  if (named_locations.empty() && named_regions.empty()) {
    for (const auto& [name, l] : locations) allowed.insert(name);
  }
  if (allowed.empty()) {
    return absl::InvalidArgumentError(
        "placement allows no location: the named regions hold none, or none are defined");
  }
  return std::vector<std::string>(allowed.begin(), allowed.end());
}

namespace {

// The cheapest location of `allowed` for a capacity, skipping what takes nothing new (cordoned,
// lost), what lacks room or the capacity type, and what `eligible` refuses; ties go to the name.
class CheapestSearch {
 public:
  // `now` (domain time) tells whether spot that was gone has been back for the return delay;
  // InfiniteFuture: it has.
  CheapestSearch(const std::set<std::string>& allowed,
                 const std::map<std::string, LocationFacts>& locations,
                 const std::map<std::string, RegionFacts>& regions, const geo::RttModel& rtt,
                 const CostModel& model, absl::Time now = absl::InfiniteFuture())
      : allowed_(allowed),
        locations_(locations),
        regions_(regions),
        rtt_(rtt),
        model_(model),
        now_(now) {}

  absl::StatusOr<std::optional<Candidate>> Find(
      const Capacity& capacity, const std::vector<ClientRegionWeight>& clients,
      const std::function<bool(const LocationFacts&)>& eligible, bool latency_counts) const {
    std::optional<Candidate> best;
    for (const std::string& name : allowed_) {
      const LocationFacts& l = locations_.at(name);
      // Spot where it pays at this location, else on-demand here.
      Capacity here = capacity;
      if (here.type == CapacityType::kSpot && !SpotPays(l, here))
        here.type = CapacityType::kOnDemand;
      // A cordoned or lost location takes nothing new, from placement as from the planner.
      if (l.cordoned || l.lost || !HasRoom(l, here) || !eligible(l)) continue;
      ASSIGN_OR_RETURN(LocationCost cost,
                       CostAt(l, here, latency_counts ? clients : std::vector<ClientRegionWeight>{},
                              regions_, rtt_, model_));
      if (!best.has_value() || cost.total() < best->cost.total()) {
        best = Candidate{&l, cost, here};
      }
    }
    return best;
  }

  // Find, saying in `note` when spot was asked for and the location chosen runs on-demand.
  absl::StatusOr<std::optional<Candidate>> FindWithFallback(
      Capacity capacity, const std::vector<ClientRegionWeight>& clients,
      const std::function<bool(const LocationFacts&)>& eligible, bool latency_counts,
      std::string* note) const {
    ASSIGN_OR_RETURN(auto found, Find(capacity, clients, eligible, latency_counts));
    if (found.has_value() && capacity.type == CapacityType::kSpot &&
        found->capacity.type == CapacityType::kOnDemand) {
      *note = absl::StrFormat(
          " (on-demand: spot there is not offered, not back long enough, or not at least %.0f%% "
          "cheaper with its risk)",
          100 * model_.spot_min_discount);
    }
    return found;
  }

 private:
  bool SpotPays(const LocationFacts& l, const Capacity& capacity) const {
    const SpotCheck spot = CheckSpot(l, capacity, model_.spot_fallback_cost, absl::Hours(24),
                                     model_.spot_return_after, model_.spot_min_discount, now_);
    return spot.offered && spot.returned && spot.discount >= model_.spot_min_discount;
  }

  const std::set<std::string>& allowed_;
  const std::map<std::string, LocationFacts>& locations_;
  const std::map<std::string, RegionFacts>& regions_;
  const geo::RttModel& rtt_;
  const CostModel& model_;
  const absl::Time now_;
};

absl::StatusOr<ShadowPlacement> ShadowNear(const LocationFacts& p, const Capacity& shadow_capacity,
                                           const std::set<std::string>& allowed,
                                           const CheapestSearch& search, const CostModel& model) {
  std::string note;
  ASSIGN_OR_RETURN(auto shadow, search.FindWithFallback(
                                    shadow_capacity, {},
                                    [&](const LocationFacts& l) {
                                      return l.region != p.region &&
                                             geo::GreatCircleKm(l.at, p.at) >=
                                                 model.min_shadow_distance_km;
                                    },
                                    /*latency_counts=*/false, &note));
  if (!shadow.has_value()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "no allowed location can hold the shadow: it must be in a region other than %s, at least "
        "%.0f km from %s, neither cordoned nor lost, with room for %d millicores and %d MiB; "
        "allowed: %s",
        p.region, model.min_shadow_distance_km, p.name, shadow_capacity.millicores,
        shadow_capacity.memory_mib, absl::StrJoin(allowed, ", ")));
  }
  ShadowPlacement out;
  out.location = shadow->location->name;
  out.capacity = shadow->capacity;
  out.cost = shadow->cost;
  out.distance_km = geo::GreatCircleKm(shadow->location->at, p.at);
  out.explanation = absl::StrFormat(
      "shadow at %s (region %s, %.0f km away): cheapest location in another region at least %.0f "
      "km away, $%.4f/h%s",
      out.location, shadow->location->region, out.distance_km, model.min_shadow_distance_km,
      shadow->cost.total(), note);
  return out;
}

}  // namespace

absl::StatusOr<ShadowPlacement> PlaceShadow(const std::string& primary_location,
                                            const Capacity& shadow_capacity,
                                            const std::vector<std::string>& allowed_list,
                                            const std::map<std::string, LocationFacts>& locations,
                                            const std::map<std::string, RegionFacts>& regions,
                                            const geo::RttModel& rtt, const CostModel& model) {
  const auto p = locations.find(primary_location);
  if (p == locations.end()) {
    return absl::NotFoundError(absl::StrCat("location '", primary_location, "' does not exist"));
  }
  std::set<std::string> allowed;
  for (const std::string& name : allowed_list) {
    if (locations.count(name) != 0) allowed.insert(name);
  }
  const CheapestSearch search(allowed, locations, regions, rtt, model);
  return ShadowNear(p->second, shadow_capacity, allowed, search, model);
}

absl::StatusOr<Placement> Place(const PlacementRequest& request,
                                const std::map<std::string, LocationFacts>& locations,
                                const std::map<std::string, RegionFacts>& regions,
                                const geo::RttModel& rtt, const CostModel& model) {
  for (const ClientRegionWeight& c : request.client_regions) {
    if (regions.count(c.region) == 0) {
      return absl::NotFoundError(absl::StrCat("client region '", c.region, "' does not exist"));
    }
  }
  ASSIGN_OR_RETURN(const std::vector<std::string> allowed_list,
                   AllowedLocations(request.locations, request.regions, locations, regions));
  const std::set<std::string> allowed(allowed_list.begin(), allowed_list.end());
  const CheapestSearch search(allowed, locations, regions, rtt, model, request.now);

  Placement placement;
  std::string primary_note;
  ASSIGN_OR_RETURN(auto primary, search.FindWithFallback(
                                     request.capacity, request.client_regions,
                                     [](const LocationFacts&) { return true; },
                                     /*latency_counts=*/true, &primary_note));
  if (!primary.has_value()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "no allowed location (", absl::StrJoin(allowed, ", "),
        ") that is neither cordoned nor lost has room for ", request.capacity.millicores,
        " millicores and ", request.capacity.memory_mib, " MiB"));
  }
  const LocationFacts& p = *primary->location;
  ASSIGN_OR_RETURN(
      ShadowPlacement shadow,
      ShadowNear(p, ShadowCapacity(primary->capacity, request.shadow_capacity_fraction), allowed,
                 search, model));
  placement.primary_location = p.name;
  placement.primary_capacity = primary->capacity;
  placement.primary_cost = primary->cost;
  placement.shadow_location = shadow.location;
  placement.shadow_capacity = shadow.capacity;
  placement.shadow_cost = shadow.cost;
  placement.shadow_distance_km = shadow.distance_km;
  placement.explanation = absl::StrFormat(
      "primary at %s (region %s): lowest cost of %d allowed locations, $%.4f/h (compute $%.4f, "
      "electricity $%.4f, latency $%.4f for %.1f ms expected RTT)%s; %s",
      p.name, p.region, allowed.size(), primary->cost.total(), primary->cost.compute,
      primary->cost.electricity, primary->cost.latency, primary->cost.latency_ms, primary_note,
      shadow.explanation);
  return placement;
}

}  // namespace shadowplane::planner
