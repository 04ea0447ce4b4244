#include "planner/realized_saving.h"

#include "common/status_macros.h"

namespace shadowplane::planner {

DemandOutlook RealizedOutlook(const std::map<std::string, double>& requests,
                              const std::map<std::string, double>& bytes_per_request,
                              const std::map<std::string, RegionFacts>& regions) {
  DemandOutlook demand;
  for (const auto& [region, n] : requests) {
    if (regions.count(region) == 0) continue;
    demand.regions.push_back(region);
    demand.expected_requests.push_back(n);
    const auto bytes = bytes_per_request.find(region);
    demand.bytes_per_request.push_back(bytes == bytes_per_request.end() ? 0 : bytes->second);
  }
  return demand;
}

absl::StatusOr<RealizedSaving> RealizedSavingOf(const LocationFacts& old_location,
                                                const LocationFacts& new_location,
                                                const RealizedMove& move,
                                                const std::map<std::string, RegionFacts>& regions,
                                                const geo::RttModel& rtt,
                                                const PlanPrices& prices) {
  DemandOutlook demand = RealizedOutlook(move.requests, move.bytes_per_request, regions);
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
