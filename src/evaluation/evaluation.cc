#include "evaluation/evaluation.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"

namespace shadowplane::evaluation {

World WorldFrom(const World& world, int from) {
  World out = world;
  for (auto& [name, market] : out.spot) {
    const size_t cut = std::min(market.price_share.size(), static_cast<size_t>(from));
    market.price_share.erase(market.price_share.begin(), market.price_share.begin() + cut);
    market.interrupted.erase(market.interrupted.begin(), market.interrupted.begin() + cut);
  }
  return out;
}

DemandTrace Head(const DemandTrace& trace, int hours) {
  DemandTrace out = trace;
  out.requests.resize(static_cast<size_t>(hours));
  return out;
}

DemandTrace Tail(const DemandTrace& trace, int from) {
  DemandTrace out = trace;
  out.start = trace.start + absl::Hours(from);
  out.requests.erase(out.requests.begin(), out.requests.begin() + from);
  return out;
}

namespace {

// The settings among `grid` whose policy costs least in `run` (the first of equals).
template <typename Options, typename Make, typename Run>
absl::StatusOr<Options> Cheapest(const std::vector<Options>& grid, Make make, Run run) {
  std::optional<Options> best;
  double least = std::numeric_limits<double>::infinity();
  for (const Options& o : grid) {
    std::unique_ptr<Policy> policy = make(o);
    ASSIGN_OR_RETURN(const PolicyRun r, run(*policy));
    if (r.report.cost.total() < least) {
      least = r.report.cost.total();
      best = o;
    }
  }
  if (!best.has_value()) return absl::InvalidArgumentError("an empty tuning grid");
  return *best;
}

}  // namespace

absl::StatusOr<EvaluationResult> Evaluate(const EvaluationConfig& config, const DemandTrace& trace,
                                          const std::vector<forecast::DemandEvent>& announced) {
  EvaluationResult out;
  out.hours = trace.hours();
  if (out.hours < 4 * 168) return absl::FailedPreconditionError("the trace is under four weeks");
  out.split = out.hours / 2;
  out.warmup = std::min(336, out.split / 2);
  const World& world = config.world;
  const DemandTrace train = Head(trace, out.split);
  ASSIGN_OR_RETURN(const CostTable train_table, CostTable::Build(world, train));
  ASSIGN_OR_RETURN(const CostTable table, CostTable::Build(world, trace));
  for (const Placement& p : table.placements()) out.placements.push_back(p.name);

  double least = std::numeric_limits<double>::infinity();
  for (int p = 0; p < table.size(); ++p) {
    if (table.placements()[static_cast<size_t>(p)].type != CapacityType::kOnDemand) continue;
    double sum = 0;
    for (int h = 0; h < out.split; ++h) sum += train_table.Serve(h, p).total();
    if (sum < least) {
      least = sum;
      out.start = p;
    }
  }

  // Tuning on the training half.
  std::vector<ReactiveOptions> reactive_grid;
  for (int window : config.reactive_windows) {
    for (double margin : config.reactive_margins) {
      ReactiveOptions o;
      o.window_hours = window;
      o.gates.hysteresis_relative = margin;
      o.gates.hysteresis_absolute = 0;
      o.gates.min_dwell = absl::Hours(config.min_dwell_hours);
      reactive_grid.push_back(o);
    }
  }
  std::vector<PredictiveOptions> predictive_grid;
  for (int horizon : config.predictive_horizons) {
    for (double threshold : config.predictive_thresholds) {
      PredictiveOptions o;
      o.settings.horizon = absl::Hours(horizon);
      o.settings.migration_threshold = threshold;
      o.settings.anti_flapping.min_dwell = absl::Hours(config.min_dwell_hours);
      o.announced = announced;
      predictive_grid.push_back(o);
    }
  }
  auto train_run = [&](Policy& p) {
    return Simulate(p, train_table, world, train, out.start, out.warmup);
  };
  ASSIGN_OR_RETURN(
      out.reactive,
      Cheapest(
          reactive_grid, [](const ReactiveOptions& o) { return ReactivePolicy(o); }, train_run));
  ASSIGN_OR_RETURN(
      out.predictive,
      Cheapest(
          predictive_grid,
          [&world](const PredictiveOptions& o) { return PredictivePolicy(&world, o); }, train_run));

  // Scored on the second half.
  std::vector<std::unique_ptr<Policy>> policies;
  policies.push_back(StaticPolicy());
  policies.push_back(ReactivePolicy(out.reactive));
  policies.push_back(PredictivePolicy(&world, out.predictive));
  // And as the server runs out of the box: the planner's default horizon and threshold.
  PredictiveOptions defaults;
  defaults.settings.anti_flapping.min_dwell = absl::Hours(config.min_dwell_hours);
  defaults.announced = announced;
  policies.push_back(PredictivePolicy(&world, defaults));
  for (auto& p : policies) {
    ASSIGN_OR_RETURN(PolicyRun run, Simulate(*p, table, world, trace, out.start, out.split));
    out.runs.push_back(std::move(run));
  }
  out.runs.back().policy = "predictive, server defaults";
  const DemandTrace test = Tail(trace, out.split);
  const World test_world = WorldFrom(world, out.split);
  ASSIGN_OR_RETURN(const CostTable test_table, CostTable::Build(test_world, test));
  ASSIGN_OR_RETURN(const OracleSchedule oracle,
                   Oracle(test_table, out.start, {config.min_dwell_hours}));
  out.oracle.policy = "oracle";
  out.oracle.schedule = oracle.schedule;
  ASSIGN_OR_RETURN(out.oracle.report, Charge(test_table, test_world, oracle.schedule, out.start));
  return out;
}

std::string FormatTable(const EvaluationResult& result) {
  const double static_cost = result.runs.empty() ? 0 : result.runs[0].report.cost.total();
  const double oracle_saving = static_cost - result.oracle.report.cost.total();
  std::string out =
      "| policy | total $ | compute $ | electricity $ | latency $ | egress $ | moves $ | mean RTT "
      "ms | migrations (urgent) | freeze s | best-location share | on spot | forecast sMAPE | "
      "80% interval covers | share of the oracle's saving |\n"
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
      "|\n";
  auto row = [&](const PolicyRun& run) {
    const ScheduleReport& r = run.report;
    const CostParts& c = r.cost;
    const std::string accuracy = run.accuracy.has_value() && run.accuracy->points > 0
                                     ? absl::StrFormat("%.2f%% | %.1f%%", run.accuracy->smape,
                                                       100 * run.accuracy->coverage80)
                                     : "- | -";
    const std::string share =
        oracle_saving > 0
            ? absl::StrFormat("%.1f%%", 100 * (static_cost - c.total()) / oracle_saving)
            : "-";
    absl::StrAppend(
        &out,
        absl::StrFormat("| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %d (%d) | "
                        "%.1f | %.3f | %.3f | %s | %s |\n",
                        run.policy, c.total(), c.compute, c.electricity, c.latency, c.egress,
                        c.moves, r.mean_rtt_ms, r.migrations, r.urgent_moves, r.freeze_seconds,
                        r.best_location_share, r.spot_share, accuracy, share));
  };
  for (const PolicyRun& run : result.runs) row(run);
  row(result.oracle);
  if (result.runs.size() >= 3) {
    absl::StrAppend(
        &out,
        absl::StrFormat("\noracle saves $%.2f (%.1f%% of static); predictive $%.2f; reactive "
                        "$%.2f\n",
                        oracle_saving, static_cost > 0 ? 100 * oracle_saving / static_cost : 0,
                        static_cost - result.runs[2].report.cost.total(),
                        static_cost - result.runs[1].report.cost.total()));
  }
  return out;
}

}  // namespace shadowplane::evaluation
