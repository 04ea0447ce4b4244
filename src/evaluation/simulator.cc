#include "evaluation/simulator.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace shadowplane::evaluation {

DemandTrace DemandTraceOf(const forecast::Trace& trace, double bytes_per_request) {
  DemandTrace out;
  out.start = trace.start;
  for (const forecast::TraceRegion& r : trace.regions) out.regions.push_back(r.name);
  out.bytes_per_request.assign(trace.regions.size(), bytes_per_request);
  out.requests.assign(static_cast<size_t>(trace.hours), std::vector<double>(trace.regions.size()));
  for (size_t r = 0; r < trace.regions.size(); ++r) {
    for (int h = 0; h < trace.hours; ++h) {
      out.requests[static_cast<size_t>(h)][r] = trace.demand[r][static_cast<size_t>(h)];
    }
  }
  return out;
}

absl::StatusOr<PolicyRun> Simulate(Policy& policy, const CostTable& table, const World& world,
                                   const DemandTrace& trace, int start, int score_from) {
  const int n = static_cast<int>(table.locations().size());
  if (start < 0 || start >= n) return absl::InvalidArgumentError("start is not a location");
  if (trace.hours() != table.hours()) {
    return absl::InvalidArgumentError("the trace and the cost table differ in length");
  }
  PolicyRun run;
  run.policy = policy.name();
  std::vector<int> move_hours;
  int at = start;
  for (int h = 0; h < trace.hours(); ++h) {
    const PolicyView view(&table, &trace, h, at, &move_hours);
    ASSIGN_OR_RETURN(const int chosen, policy.Choose(view));
    if (chosen < 0 || chosen >= n) {
      return absl::InternalError(
          absl::StrCat(policy.name(), " chose location ", chosen, " at hour ", h));
    }
    if (chosen != at) move_hours.push_back(h);
    at = chosen;
    run.schedule.push_back(at);
  }
  ASSIGN_OR_RETURN(run.report, Charge(table, world, run.schedule, start, score_from));
  return run;
}

}  // namespace shadowplane::evaluation
