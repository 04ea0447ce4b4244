// The catalog as the planner reads it: regions with their coordinates and locations with their
// prices, capacity and use, keyed by name. One conversion from the stored catalog, shared by
// placement (reservations) and planning. Observed prices are laid over the catalog's
// (planner/spot_prices.h).
#ifndef SHADOWPLANE_PLANNER_LOCATION_FACTS_H_
#define SHADOWPLANE_PLANNER_LOCATION_FACTS_H_

#include <map>
#include <string>

#include "planner/placement.h"
#include "store/location_repository.h"

namespace shadowplane::planner {

struct CatalogFacts {
  std::map<std::string, RegionFacts> regions;
  std::map<std::string, LocationFacts> locations;
};

CatalogFacts FactsOf(const store::LocationCatalog& catalog);

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_PLANNER_LOCATION_FACTS_H_
