// The whole trace-driven evaluation of one trace (bench/run_evaluation.sh): the settings of
// `reactive` and `predictive` chosen on the first half of the trace (and `predictive` also run
// with the planner's defaults, untuned) (its first two weeks the
// policies' history, not scored), every policy run over the whole trace from the same start and
// scored on the second half, and the oracle on the second half from that start. The start is the
// on-demand placement that would have cost least over the training half: where `static` was
// placed, as a placement service with hindsight of the training half would place it.
//
// Deterministic: the same configuration and trace give the same result, and FormatTable the same
// bytes, on every run and machine.
#ifndef SHADOWPLANE_EVALUATION_EVALUATION_H_
#define SHADOWPLANE_EVALUATION_EVALUATION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "evaluation/evaluation_config.h"
#include "evaluation/oracle.h"
#include "evaluation/simulator.h"

namespace shadowplane::evaluation {

struct EvaluationResult {
  int hours = 0;
  int split = 0;   // the first scored hour
  int warmup = 0;  // training-half hours not scored when tuning
  int start = 0;   // the placement every policy starts from
  std::vector<std::string> placements;
  ReactiveOptions reactive;      // as chosen on the training half
  PredictiveOptions predictive;  // as chosen on the training half
  // static, reactive, predictive (as tuned), predictive with the planner's default horizon and
  // threshold; schedules over the whole trace.
  std::vector<PolicyRun> runs;
  PolicyRun oracle;              // its schedule over the scored half only
};

// `config.world.spot` must cover the trace (AddSpotMarkets). `announced` are the trace's events
// known beforehand. FAILED_PRECONDITION for a trace under four weeks; errors of the parts.
absl::StatusOr<EvaluationResult> Evaluate(const EvaluationConfig& config, const DemandTrace& trace,
                                          const std::vector<forecast::DemandEvent>& announced);

// The markdown table of costs and behaviour per policy, then one line of savings against static.
std::string FormatTable(const EvaluationResult& result);

// The world of `world` from hour `from` on (its spot markets cut to match).
World WorldFrom(const World& world, int from);
// The trace's first `hours` hours, and its hours from `from` on.
DemandTrace Head(const DemandTrace& trace, int hours);
DemandTrace Tail(const DemandTrace& trace, int from);

}  // namespace shadowplane::evaluation

#endif  // SHADOWPLANE_EVALUATION_EVALUATION_H_
