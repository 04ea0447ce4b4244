#include "planner/realized_saving.h"

#include "common/status_macros.h"

namespace shadowplane::planner {

absl::StatusOr<RealizedSaving> RealizedSavingOf(const LocationFacts& old_location,
                                                const LocationFacts& new_location,
                                                const RealizedMove& move,
                                                const std::map<std::string, RegionFacts>& regions,
                                                const geo::RttModel& rtt,
                                                const PlanPrices& prices) {
  // The realised demand as an outlook with no sample paths: its point "forecast" is what came.
  DemandOutlook demand;
  for (const auto& [region, requests] : move.requests) {
    if (regions.count(region) == 0) continue;
    demand.regions.push_back(region);
    demand.expected_requests.push_back(requests);
    const auto bytes = move.bytes_per_request.find(region);
    demand.bytes_per_request.push_back(bytes == move.bytes_per_request.end() ? 0 : bytes->second);
  }
  demand.requests_per_hour_at_move = move.requests_per_hour_at_move;
  RealizedSaving out;
  ASSIGN_OR_RETURN(out.old_terms, EvaluateLocation(old_location, move.old_capacity, move.window,
                                                   demand, regions, rtt, prices));
  ASSIGN_OR_RETURN(out.new_terms, EvaluateLocation(new_location, move.new_capacity, move.window,
                                                   demand, regions, rtt, prices));
  MoveFacts facts;
  facts.data_bytes = move.bytes_transferred;
  facts.expected_freeze_seconds = move.freeze_seconds;
  facts.affine_sessions = static_cast<double>(move.disrupted_sessions);
  out.move_cost = MoveCost(old_location, facts, demand, prices);
  out.saving = out.old_terms.expected_total() - out.new_terms.expected_total() - out.move_cost;
  return out;
}

}  // namespace shadowplane::planner
