// A candidate location for the evaluation's tests: the given place and prices, $0.005 a GiB-hour,
// 10 W a vCPU, room for anything.
#ifndef SHADOWPLANE_TESTS_EVALUATION_TEST_LOCATION_H_
#define SHADOWPLANE_TESTS_EVALUATION_TEST_LOCATION_H_

#include <string>

#include "planner/placement.h"

namespace shadowplane::evaluation {

inline planner::LocationFacts TestLocation(const std::string& name, geo::Coordinates at,
                                           double vcpu_hour, double bandwidth_gb,
                                           double electricity_kwh) {
  planner::LocationFacts l;
  l.name = name;
  l.region = name;
  l.at = at;
  l.on_demand_price_per_vcpu_hour = vcpu_hour;
  l.on_demand_price_per_gib_hour = 0.005;
  l.electricity_price_per_kwh = electricity_kwh;
  l.power_draw_watts_per_vcpu = 10;
  l.bandwidth_price_per_gb = bandwidth_gb;
  l.capacity_millicores = 100000;
  l.capacity_memory_mib = 100000;
  return l;
}

}  // namespace shadowplane::evaluation

#endif  // SHADOWPLANE_TESTS_EVALUATION_TEST_LOCATION_H_
