// "With what probability will location X be the best place for this resource in k hours": the
// best-location chain (forecast/best_location_chain.h) fitted to the resource's own history of
// demand per origin region, asked from the current best location. The candidates are the
// locations the reservation's placement allows (its locations and every location in its regions;
// both empty, every location).
#ifndef SHADOWPLANE_FORECAST_LOCATION_OUTLOOK_H_
#define SHADOWPLANE_FORECAST_LOCATION_OUTLOOK_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "forecast/demand_history.h"
#include "geo/distance.h"
#include "store/location_repository.h"

namespace shadowplane::forecast {

struct LocationOutlook {
  std::vector<std::string> locations;
  std::string best_now;  // empty when the last hour had no requests from a known region
  // probability[i][k - 1]: location i is best k hours after the last full hour.
  std::vector<std::vector<double>> probability;
};

// The candidate locations for a reservation whose placement is `placement_json` (empty: none).
// INVALID_ARGUMENT when the stored placement cannot be read.
absl::StatusOr<std::vector<store::LocationRecord>> CandidateLocations(
    const std::string& placement_json, const store::LocationCatalog& catalog);

// FAILED_PRECONDITION without candidates or without demand from a region of the catalog. One
// candidate is best with probability 1.
absl::StatusOr<LocationOutlook> OutlookFor(const HourlyHistory& history,
                                           const std::vector<store::LocationRecord>& candidates,
                                           const store::LocationCatalog& catalog, int hours,
                                           const geo::RttModel& rtt = geo::RttModel());

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_LOCATION_OUTLOOK_H_
