// Replays a demand trace hour by hour through a policy (evaluation/policy.h): at the start of each
// hour the policy chooses the placement the resource is served from, seeing only the past; a
// change is a move, charged as evaluation/cost_table.h says. Spot capacity reclaimed under the
// resource moves it to on-demand at the same location first (the server's urgent fallback), and a
// choice of reclaimed capacity is refused (the resource stays). Deterministic: the same trace,
// world and policy give the same schedule.
#ifndef SHADOWPLANE_EVALUATION_SIMULATOR_H_
#define SHADOWPLANE_EVALUATION_SIMULATOR_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "evaluation/cost_table.h"
#include "evaluation/policy.h"
#include "forecast/synthetic_trace.h"

namespace shadowplane::evaluation {

// The policy's forecasts of all regions together against what came, over the scored hours.
struct ForecastAccuracy {
  int points = 0;         // forecast hours scored
  double smape = 0;       // symmetric MAPE, percent (M4's)
  double coverage80 = 0;  // share of points inside the 80% interval
};

struct PolicyRun {
  std::string policy;
  std::vector<int> schedule;                 // the placement serving each hour
  ScheduleReport report;                     // hours from the run's `score_from` on
  std::optional<ForecastAccuracy> accuracy;  // for a policy that forecasts
};

// Scores `made` against the trace's total requests at the hours from `score_from` on (forecast
// hours past the trace are left out); nullopt when nothing was made.
std::optional<ForecastAccuracy> ScoreForecasts(const std::vector<MadeForecast>& made,
                                               const DemandTrace& trace, int score_from);

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
