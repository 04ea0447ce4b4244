#include "planner/plan_objective.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace shadowplane::planner {
namespace {

bool Price(double v) { return std::isfinite(v) && v >= 0; }

absl::Status CheckPrices(const LocationFacts& l, CapacityType type) {
  auto missing = [&](absl::string_view what) {
    return absl::FailedPreconditionError(absl::StrCat("location ", l.name, " has no ", what));
  };
  if (!Price(l.on_demand_price_per_vcpu_hour) || l.on_demand_price_per_vcpu_hour == 0) {
    return missing("on-demand price per vCPU-hour");
  }
  if (!Price(l.on_demand_price_per_gib_hour)) return missing("on-demand price per GiB-hour");
  if (type == CapacityType::kSpot &&
      ((l.spot_price_per_vcpu_hour && !Price(*l.spot_price_per_vcpu_hour)) ||
       (l.spot_price_per_gib_hour && !Price(*l.spot_price_per_gib_hour)))) {
    return missing("valid spot price");
  }
  if (!Price(l.electricity_price_per_kwh)) return missing("electricity price per kWh");
  if (!Price(l.power_draw_watts_per_vcpu)) return missing("power draw per vCPU");
  if (!Price(l.bandwidth_price_per_gb)) return missing("bandwidth price per GB");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LocationTerms> EvaluateLocation(const LocationFacts& location,
                                               const Capacity& capacity, absl::Duration horizon,
                                               const DemandOutlook& demand,
                                               const std::map<std::string, RegionFacts>& regions,
                                               const geo::RttModel& rtt, const PlanPrices& prices) {
  RETURN_IF_ERROR(CheckPrices(location, capacity.type));
  // Placement's one cost function prices the fixed terms per hour; latency is priced here, by
  // forecast requests instead of placement's client weights.
  ASSIGN_OR_RETURN(LocationCost hourly,
                   CostAt(location, capacity, /*clients=*/{}, regions, rtt, CostModel()));
  const double hours = absl::ToDoubleHours(horizon);
  LocationTerms terms;
  terms.location = location.name;
  terms.compute = hourly.compute * hours;
  terms.electricity = hourly.electricity * hours;

  const size_t n = demand.regions.size();
  std::vector<double> rtt_ms(n), latency_unit(n), egress_unit(n);
  for (size_t r = 0; r < n; ++r) {
    const auto region = regions.find(demand.regions[r]);
    if (region == regions.end()) {
      return absl::NotFoundError(
          absl::StrCat("origin region ", demand.regions[r], " is not in the catalog"));
    }
    rtt_ms[r] = rtt.RttMs(region->first, region->second.at, location.name, location.at);
    latency_unit[r] = rtt_ms[r] * prices.latency_price_per_request_ms;
    const double bytes = r < demand.bytes_per_request.size() ? demand.bytes_per_request[r] : 0;
    egress_unit[r] = bytes / 1e9 * location.bandwidth_price_per_gb;
  }
  terms.unit_cost.resize(n);
  for (size_t r = 0; r < n; ++r) terms.unit_cost[r] = latency_unit[r] + egress_unit[r];
  double requests = 0;
  for (size_t r = 0; r < n && r < demand.expected_requests.size(); ++r) {
    const double q = demand.expected_requests[r];
    terms.latency += q * latency_unit[r];
    terms.egress += q * egress_unit[r];
    terms.latency_ms += q * rtt_ms[r];
    requests += q;
  }
  if (requests > 0) terms.latency_ms /= requests;
  if (demand.has_paths()) {
    terms.path_total.assign(static_cast<size_t>(demand.paths), terms.fixed());
    for (int p = 0; p < demand.paths; ++p) {
      double sum = 0;
      for (size_t r = 0; r < n; ++r) {
        sum += demand.PathRequests(p, r) * (latency_unit[r] + egress_unit[r]);
      }
      terms.path_total[static_cast<size_t>(p)] += sum;
    }
  }
  return terms;
}

double MoveCost(const LocationFacts& source, const MoveFacts& move, const DemandOutlook& demand,
                const PlanPrices& prices) {
  const double transfer =
      static_cast<double>(move.data_bytes) / 1e9 * source.bandwidth_price_per_gb;
  const double delayed = move.expected_freeze_seconds / 3600.0 * demand.requests_per_hour_at_move;
  return transfer + delayed * prices.delayed_request_price + AffinityCost(move, prices);
}

double AffinityCost(const MoveFacts& move, const PlanPrices& prices) {
  return std::max(0.0, move.affine_sessions) * prices.disrupted_session_price;
}

}  // namespace shadowplane::planner
