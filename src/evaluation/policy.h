// The policies the trace-driven evaluation compares (bench/run_evaluation.sh), each choosing at the
// start of every hour the placement (location and capacity type) the resource is served from,
// seeing only the past: the demand and costs of hours before the current one, the spot prices
// published up to the current hour (a provider publishes the hour's price and whether its spot
// capacity is reclaimed at its start), and the moves made so far. A resource on spot capacity
// that is reclaimed falls back to on-demand at the same location before its policy is asked (the
// server's urgent fallback, planner part 2); the move counts for the policy's gates.
//
//   static      never moves.
//   reactive    moves to the placement that would have cost least over the last `window_hours`,
//               when that beats the current one by the hysteresis margin and the dwell, the
//               daily cap and the return cooldown allow (the planner's own gates,
//               planner/planner_settings.h).
//   predictive  ours: the real forecaster (forecast/forecaster.h, refitted every `refit_hours`
//               on the trace so far, past announced events taken out of its history as the
//               server does) and the real planner's decision (planner/move_decision.h) over the
//               forecast's sample paths and the spot prices laid over the catalog
//               (planner/spot_prices.h), exactly as the server decides.
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
#include "forecast/event_effects.h"
#include "forecast/forecaster.h"
#include "planner/move_decision.h"
#include "planner/planner_settings.h"
#include "store/price_repository.h"

namespace shadowplane::evaluation {

// The moves a run made so far: the hour of each and the placement it left.
struct MoveLog {
  std::vector<int> hours;
  std::vector<int> left;

  // Hours since the last move (a large number before any).
  int Since(int hour) const { return hours.empty() ? 1 << 30 : hour - hours.back(); }
  int InLastDay(int hour) const;
  void Note(int hour, int from) {
    hours.push_back(hour);
    left.push_back(from);
  }
};

// What a policy sees at the start of hour `hour`. Reading a later hour, or the current hour's
// demand or costs, is refused (INTERNAL), so that no policy but the oracle can peek.
class PolicyView {
 public:
  PolicyView(const World* world, const CostTable* table, const DemandTrace* trace, int hour, int at,
             const MoveLog* moves)
      : world_(world), table_(table), trace_(trace), hour_(hour), at_(at), moves_(moves) {}

  int hour() const { return hour_; }
  int at() const { return at_; }
  absl::Time now() const { return trace_->start + absl::Hours(hour_); }
  const World& world() const { return *world_; }        // spot markets up to hour() only
  const CostTable& costs() const { return *table_; }    // hours before hour() only
  const DemandTrace& trace() const { return *trace_; }  // hours before hour() only
  absl::StatusOr<double> PastServe(int h, int p) const;
  // Whether placement `p`'s capacity is reclaimed in hour `h` <= hour().
  absl::StatusOr<bool> Reclaimed(int h, int p) const;
  // Spot prices published up to hour() at `location`: the hours' price observations, as a
  // provider reports them (no spot offered while reclaimed), from hour `from` to hour() inclusive.
  absl::StatusOr<store::PriceHistory> SpotPrices(const std::string& location, int from) const;
  const MoveLog& moves() const { return *moves_; }

 private:
  const World* world_;
  const CostTable* table_;
  const DemandTrace* trace_;
  int hour_;
  int at_;
  const MoveLog* moves_;
};

// A forecast a policy made, for scoring: requests of all regions together from hour `hour` on,
// the point and the 80% interval.
struct MadeForecast {
  int hour = 0;
  std::vector<double> point, low80, high80;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string name() const = 0;
  // The placement to serve hour view.hour() from (view.at() to stay).
  virtual absl::StatusOr<int> Choose(const PolicyView& view) = 0;
  // The forecasts it made (none but predictive's).
  virtual const std::vector<MadeForecast>& forecasts() const {
    static const std::vector<MadeForecast> kNone;
    return kNone;
  }
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
  // Events announced beforehand (the trace's announced campaigns), with their uplift: taken out
  // of the history once past, as the server's forecaster does with known events.
  std::vector<forecast::DemandEvent> announced;
  // Each refit's forecast of all regions together, this many hours, kept for scoring (0: none).
  int scored_hours = 24;
};
// `world` must outlive the policy.
std::unique_ptr<Policy> PredictivePolicy(const World* world, PredictiveOptions options);

}  // namespace shadowplane::evaluation

#endif  // SHADOWPLANE_EVALUATION_POLICY_H_
