// Replays a demand trace hour by hour through a policy (evaluation/policy.h): at the start of each
// hour the policy chooses where the resource is served from, seeing only the past; a change is a
// move, charged the move's cost at that hour (evaluation/cost_table.h). Deterministic: the same
// trace, world and policy give the same schedule.
#ifndef SHADOWPLANE_EVALUATION_SIMULATOR_H_
#define SHADOWPLANE_EVALUATION_SIMULATOR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "evaluation/cost_table.h"
#include "evaluation/policy.h"
#include "forecast/synthetic_trace.h"

namespace shadowplane::evaluation {

struct PolicyRun {
  std::string policy;
  std::vector<int> schedule;  // the location serving each hour
  ScheduleReport report;      // hours from the run's `score_from` on
};

// A generated trace (forecast/synthetic_trace.h) as the evaluation's demand, every region's
// requests served at `bytes_per_request`.
DemandTrace DemandTraceOf(const forecast::Trace& trace, double bytes_per_request);

// Runs `policy` over every hour of `trace` from `start`, and charges the hours from `score_from`
// on (the held-out part; earlier hours are the policy's history). Errors from the policy stop the
// run; INVALID_ARGUMENT for `start` or `score_from` out of range.
absl::StatusOr<PolicyRun> Simulate(Policy& policy, const CostTable& table, const World& world,
                                   const DemandTrace& trace, int start, int score_from = 0);

}  // namespace shadowplane::evaluation

#endif  // SHADOWPLANE_EVALUATION_SIMULATOR_H_
