// The policies the trace-driven evaluation compares (bench/run_evaluation.sh), each choosing at the
// start of every hour where the resource is served from, seeing only the past: the demand and
// costs of hours before the current one, and its own moves.
//
//   static      never moves.
//   reactive    moves to the location that would have cost least over the last `window_hours`,
//               when that beats the current one by the hysteresis margin and the dwell and the
//               daily cap allow (the planner's own gates, planner/planner_settings.h).
//   predictive  ours: the real forecaster (forecast/forecaster.h, refitted every `refit_hours`
//               on the trace so far) and the real planner's decision (planner/move_decision.h)
//               over the forecast's sample paths, exactly as the server decides.
//
// The oracle (evaluation/oracle.h) sees the whole trace and is not a Policy.
#ifndef SHADOWPLANE_EVALUATION_POLICY_H_
#define SHADOWPLANE_EVALUATION_POLICY_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "evaluation/cost_table.h"
#include "forecast/forecaster.h"
#include "planner/move_decision.h"
#include "planner/planner_settings.h"

namespace shadowplane::evaluation {

// What a policy sees at the start of hour `hour`. Reading the current hour or later is refused
// (INTERNAL), so that no policy but the oracle can peek.
class PolicyView {
 public:
  PolicyView(const CostTable* table, const DemandTrace* trace, int hour, int at,
             const std::vector<int>* move_hours)
      : table_(table), trace_(trace), hour_(hour), at_(at), move_hours_(move_hours) {}

  int hour() const { return hour_; }
  int at() const { return at_; }
  absl::Time now() const { return trace_->start + absl::Hours(hour_); }
  const CostTable& costs() const { return *table_; }    // hours before hour() only
  const DemandTrace& trace() const { return *trace_; }  // hours before hour() only
  absl::StatusOr<double> PastServe(int h, int l) const;
  // The hours at which the resource moved so far.
  const std::vector<int>& move_hours() const { return *move_hours_; }

 private:
  const CostTable* table_;
  const DemandTrace* trace_;
  int hour_;
  int at_;
  const std::vector<int>* move_hours_;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string name() const = 0;
  // The location to serve hour view.hour() from (view.at() to stay).
  virtual absl::StatusOr<int> Choose(const PolicyView& view) = 0;
};

std::unique_ptr<Policy> StaticPolicy();

struct ReactiveOptions {
  int window_hours = 6;
  planner::AntiFlapping gates;  // dwell, daily cap, hysteresis (relative and absolute)
};
std::unique_ptr<Policy> ReactivePolicy(ReactiveOptions options);

struct PredictiveOptions {
  planner::PlannerSettings settings;  // mode is forced to auto
  forecast::ForecasterOptions forecaster;
  int refit_hours = 6;  // the server's --forecast_refit_hours
  // No decision before this much history (the forecaster's cold start borrows from other
  // resources, which a single trace does not have).
  int min_history_hours = 48;
};
// `world` must outlive the policy.
std::unique_ptr<Policy> PredictivePolicy(const World* world, PredictiveOptions options);

}  // namespace shadowplane::evaluation

#endif  // SHADOWPLANE_EVALUATION_POLICY_H_
