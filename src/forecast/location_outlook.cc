#include "forecast/location_outlook.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "forecast/best_location_chain.h"
#include "planner/placement_constraint.h"

namespace shadowplane::forecast {

absl::StatusOr<std::vector<store::LocationRecord>> CandidateLocations(
    const std::string& placement_json, const store::LocationCatalog& catalog) {
  planner::PlacementConstraint placement;
  if (!placement_json.empty() && !planner::PlacementFromJson(placement_json, &placement)) {
    return absl::InvalidArgumentError("the reservation's stored placement cannot be read");
  }
  const std::vector<std::string>& names = placement.locations;
  const std::vector<std::string>& regions = placement.regions;
  // As the placement constraint says: these locations and every location in these regions; both
  // empty, anywhere.
  std::vector<store::LocationRecord> out;
  for (const store::LocationRecord& l : catalog.locations) {
    const bool allowed = (names.empty() && regions.empty()) ||
                         std::find(names.begin(), names.end(), l.name) != names.end() ||
                         std::find(regions.begin(), regions.end(), l.region) != regions.end();
    if (allowed) out.push_back(l);
  }
  return out;
}

absl::StatusOr<LocationOutlook> OutlookFor(const HourlyHistory& history,
                                           const std::vector<store::LocationRecord>& candidates,
                                           const store::LocationCatalog& catalog, int hours,
                                           const geo::RttModel& rtt) {
  if (candidates.empty()) {
    return absl::FailedPreconditionError("no candidate locations for this resource");
  }
  LocationOutlook out;
  std::vector<Candidate> chain_candidates;
  for (const store::LocationRecord& l : candidates) {
    out.locations.push_back(l.name);
    chain_candidates.push_back({l.name, {l.latitude, l.longitude}});
  }
  if (candidates.size() == 1) {  // nothing to choose between
    out.best_now = candidates[0].name;
    out.probability.assign(1, std::vector<double>(hours, 1.0));
    return out;
  }
  std::vector<RegionDemand> regions;
  for (const auto& [name, series] : history.regions) {
    for (const store::RegionRecord& r : catalog.regions) {
      if (r.name == name) regions.push_back({name, {r.latitude, r.longitude}, series});
    }
  }
  if (regions.empty()) {
    return absl::FailedPreconditionError(
        "no requests from a known region: nowhere to measure distances from");
  }
  absl::StatusOr<std::vector<int>> states = BestLocations(regions, chain_candidates, rtt);
  if (!states.ok()) return states.status();
  // An hour without requests has every candidate tied: it says nothing about where demand is.
  for (size_t t = 0; t < states->size(); ++t) {
    double total = 0;
    for (const RegionDemand& r : regions) total += r.demand[t];
    if (total <= 0) (*states)[t] = -1;
  }
  absl::StatusOr<BestLocationChain> chain =
      BestLocationChain::Fit(*states, static_cast<int>(candidates.size()), history.first_hour);
  if (!chain.ok()) return chain.status();
  out.probability.assign(candidates.size(), std::vector<double>(hours, 0.0));
  // From the last hour with requests; k counts from the last full hour.
  const int last = static_cast<int>(states->size()) - 1;
  int t_now = last;
  while (t_now >= 0 && (*states)[t_now] < 0) --t_now;
  if (t_now < 0) {
    return absl::FailedPreconditionError("no hour with requests to start the chain from");
  }
  const int now = (*states)[t_now];
  out.best_now = candidates[now].name;
  const absl::Time at = history.first_hour + absl::Hours(t_now);
  for (int k = 1; k <= hours; ++k) {
    const Eigen::VectorXd p = chain->Predict(now, at, k + (last - t_now));
    for (size_t i = 0; i < candidates.size(); ++i) out.probability[i][k - 1] = p[i];
  }
  return out;
}

}  // namespace shadowplane::forecast
