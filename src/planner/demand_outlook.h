// A resource's forecast demand over the planning horizon, summarised for the planner: per joint
// sample path and origin region, the requests over the horizon. The planner's latency and egress
// terms are linear in demand, so these sums are all it reads of a path; it never re-reads a path
// per candidate.
//
// Built from a stored forecast by the loop's adapter (or by the evaluation from a trace), so that
// the decision itself (move_decision.h) needs no database and no forecaster.
#ifndef SHADOWPLANE_PLANNER_DEMAND_OUTLOOK_H_
#define SHADOWPLANE_PLANNER_DEMAND_OUTLOOK_H_

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace shadowplane::planner {

struct DemandOutlook {
  // When the forecast behind this outlook was computed (for the staleness gate).
  absl::Time computed_at = absl::InfinitePast();
  // Origin regions, in the order of the columns below.
  std::vector<std::string> regions;
  // paths × regions, path after path: requests over the horizon in each joint sample path (all
  // regions of one path from the same draw). Empty: no sample paths (e.g. a cold start).
  int paths = 0;
  std::vector<double> path_requests;
  // The point forecast's requests over the horizon, per region.
  std::vector<double> expected_requests;
  // Bytes served per request, per region (telemetry; 0 when unknown): the egress term.
  std::vector<double> bytes_per_request;
  // Requests per hour expected when a move would cut over (the freeze's delayed requests).
  double requests_per_hour_at_move = 0;
  // Cold start: per location, the best-location chain's probability that it serves the lowest
  // latency, averaged over the horizon.
  std::map<std::string, double> best_location_share;

  bool has_paths() const { return paths > 0 && !regions.empty(); }
  bool has_demand() const { return !expected_requests.empty(); }
  double PathRequests(int path, size_t region) const {
    return path_requests[static_cast<size_t>(path) * regions.size() + region];
  }
};

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_PLANNER_DEMAND_OUTLOOK_H_
