// The planner's pure decision under test: two locations (fra in eu, iad in us) with equal
// prices, a subject at fra on 1 vCPU and 1 GiB, and outlooks built from per-region path sums.
#ifndef SHADOWPLANE_TESTS_PLANNER_MOVE_DECISION_FIXTURE_H_
#define SHADOWPLANE_TESTS_PLANNER_MOVE_DECISION_FIXTURE_H_

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "planner/move_decision.h"

namespace shadowplane::planner {

inline const absl::Time kStart = absl::FromUnixSeconds(1798761600);  // 2027-01-01T00:00:00Z

class MoveDecisionTest : public ::testing::Test {
 protected:
  MoveDecisionTest() {
    regions_["eu"] = {"eu", {50.1, 8.7}};
    regions_["us"] = {"us", {38.9, -77.0}};
    locations_["fra"] = Location("fra", "eu", {50.1, 8.7});
    locations_["iad"] = Location("iad", "us", {38.9, -77.0});
    context_.locations = &locations_;
    context_.regions = &regions_;
    context_.rtt = &rtt_;
    subject_.resource_id = "r1";
    subject_.current_location = "fra";
    subject_.capacity = {1000, 1024, CapacityType::kOnDemand};
    subject_.allowed_locations = {"fra", "iad"};
    subject_.settings.mode = PlannerMode::kAuto;
    subject_.move = {1'000'000'000, 0.1};
  }

  static LocationFacts Location(const std::string& name, const std::string& region,
                                geo::Coordinates at) {
    LocationFacts l;
    l.name = name;
    l.region = region;
    l.at = at;
    l.on_demand_price_per_vcpu_hour = 0.04;
    l.on_demand_price_per_gib_hour = 0.005;
    l.electricity_price_per_kwh = 0.1;
    l.power_draw_watts_per_vcpu = 10;
    l.bandwidth_price_per_gb = 0.01;
    l.capacity_millicores = 100000;
    l.capacity_memory_mib = 100000;
    return l;
  }

  // Paths whose per-region sums are `eu` and `us` requests, each scaled by its own factor.
  static DemandOutlook Outlook(absl::Time at, const std::vector<std::pair<double, double>>& paths) {
    DemandOutlook o;
    o.computed_at = at;
    o.regions = {"eu", "us"};
    o.paths = static_cast<int>(paths.size());
    double eu = 0, us = 0;
    for (const auto& [e, u] : paths) {
      o.path_requests.push_back(e);
      o.path_requests.push_back(u);
      eu += e;
      us += u;
    }
    o.expected_requests = {eu / static_cast<double>(paths.size()),
                           us / static_cast<double>(paths.size())};
    o.bytes_per_request = {2000, 2000};
    o.requests_per_hour_at_move = (eu + us) / static_cast<double>(paths.size()) / 24;
    return o;
  }

  static DemandOutlook Steady(absl::Time at, double eu, double us, int paths = 100) {
    return Outlook(at,
                   std::vector<std::pair<double, double>>(static_cast<size_t>(paths), {eu, us}));
  }

  PlanDecision Decide(const DemandOutlook& demand, absl::Time now) {
    return planner::Decide(subject_, &demand, context_, now);
  }

  static bool Blocks(const PlanDecision& d, PlanGate gate) {
    return d.blocking.has_value() && *d.blocking == gate;
  }

  std::map<std::string, RegionFacts> regions_;
  std::map<std::string, LocationFacts> locations_;
  geo::RttModel rtt_;
  PlanContext context_;
  PlanSubject subject_;
};

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_TESTS_PLANNER_MOVE_DECISION_FIXTURE_H_
