// A reservation's placement constraint as stored (`reservations.placement`, JSON): the
// acceptable locations and regions (none: anywhere) and the expected client regions with their
// weights. Read by reservations, migrations and forecasting alike.
#ifndef SHADOWPLANE_PLANNER_PLACEMENT_CONSTRAINT_H_
#define SHADOWPLANE_PLANNER_PLACEMENT_CONSTRAINT_H_

#include <string>
#include <vector>

#include "planner/placement.h"

namespace shadowplane::planner {

struct PlacementConstraint {
  std::vector<std::string> locations;
  std::vector<std::string> regions;
  std::vector<ClientRegionWeight> client_regions;
};

std::string PlacementToJson(const PlacementConstraint& constraint);
// False, with `constraint` cleared (read as "anywhere"), when `json` cannot be read.
bool PlacementFromJson(const std::string& json, PlacementConstraint* constraint);

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_PLANNER_PLACEMENT_CONSTRAINT_H_
