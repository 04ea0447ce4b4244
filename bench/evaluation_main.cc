// Does prediction pay? The trace-driven evaluation (bench/run_evaluation.sh): a demand trace from
// a committed configuration (bench/evaluation/*.yaml) replayed hour by hour through `static`,
// `reactive` and `predictive` (the real forecaster and planner, src/evaluation/policy.h), and the
// offline `oracle` (src/evaluation/oracle.h). The settings of reactive and predictive are chosen
// on the first half of the trace; every policy is scored on the second half. Prints one markdown
// table.
#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "evaluation/evaluation_config.h"
#include "evaluation/oracle.h"
#include "evaluation/simulator.h"
#include "forecast/synthetic_trace.h"

ABSL_FLAG(std::string, config, "bench/evaluation/synthetic.yaml", "The evaluation's configuration");
ABSL_FLAG(std::string, eia_dir, "../shared/data/eia-regions",
          "The EIA regional demand folder (trace: eia), one <REGION>.csv per region");
ABSL_FLAG(std::string, plot_data, "",
          "When set: the prefix of the plots' data files (<prefix>-demand.dat: two weeks of the "
          "held-out half, demand by region and each policy's location; <prefix>-cost.dat: "
          "cumulative cost by policy over the held-out half)");

namespace shadowplane::evaluation {
namespace {

absl::StatusOr<DemandTrace> TraceOf(EvaluationConfig& config) {
  DemandTrace trace;
  if (config.trace == "synthetic") {
    const forecast::TraceProfile profile = forecast::DefaultTraceProfile();
    absl::StatusOr<forecast::Trace> generated = forecast::GenerateTrace(profile);
    if (!generated.ok()) return generated.status();
    trace = DemandTraceOf(*generated, config.bytes_per_request);
    for (const forecast::TraceRegion& r : generated->regions) {
      config.world.regions[r.name] = {r.name, {r.latitude, r.longitude}};
    }
  } else {
    const std::string dir = absl::GetFlag(FLAGS_eia_dir);
    std::vector<forecast::DemandSeries> series;
    absl::Time start = absl::InfinitePast();
    absl::Time end = absl::InfiniteFuture();
    for (const EiaRegion& r : config.eia_regions) {
      absl::StatusOr<forecast::DemandSeries> s =
          forecast::ReadDemandCsv(absl::StrCat(dir, "/", r.name, ".csv"));
      if (!s.ok()) {
        return absl::NotFoundError(
            absl::StrCat("the EIA regional demand data (eia-regions) cannot be read from ", dir,
                         " (--eia_dir): ", s.status().message()));
      }
      start = std::max(start, s->start);
      end = std::min(end, s->start + absl::Hours(static_cast<int64_t>(s->values.size())));
      series.push_back(*std::move(s));
      config.world.regions[r.name] = {r.name, {r.latitude, r.longitude}};
      trace.regions.push_back(r.name);
    }
    trace.start = start;
    const int hours = static_cast<int>(absl::ToInt64Hours(end - start));
    trace.requests.assign(static_cast<size_t>(std::max(0, hours)),
                          std::vector<double>(series.size(), 0));
    for (size_t r = 0; r < series.size(); ++r) {
      const int64_t offset = absl::ToInt64Hours(start - series[r].start);
      for (int h = 0; h < hours; ++h) {
        const double v = series[r].values[static_cast<size_t>(offset + h)];
        // A gap in the cleaned column counts as no demand (it is rare; the README of the data
        // says the cleaning filled almost all).
        trace.requests[static_cast<size_t>(h)][r] = std::isfinite(v) && v > 0 ? v : 0;
      }
    }
    trace.bytes_per_request.assign(series.size(), config.bytes_per_request);
  }
  for (auto& row : trace.requests) {
    for (double& q : row) q *= config.requests_per_unit;
  }
  return trace;
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

// Two weeks from the start of the held-out half (`from`): the hour, demand per region, then each
// run's location index (plus one, so that 0 stays empty); and the cumulative cost per run.
absl::Status WritePlotData(const std::string& prefix, const DemandTrace& trace, int from,
                           const std::vector<std::pair<std::string, std::vector<int>>>& runs,
                           const std::vector<std::vector<double>>& hourly) {
  std::ofstream demand(prefix + "-demand.dat");
  std::ofstream cost(prefix + "-cost.dat");
  if (!demand || !cost) {
    return absl::FailedPreconditionError(absl::StrCat("cannot write ", prefix, "-*.dat"));
  }
  demand << "hour";
  for (const std::string& r : trace.regions) demand << " " << r;
  for (const auto& [name, schedule] : runs) demand << " " << name;
  demand << "\n";
  const int end = std::min(trace.hours(), from + 14 * 24);
  for (int h = from; h < end; ++h) {
    demand << (h - from);
    for (double q : trace.requests[static_cast<size_t>(h)]) demand << " " << q;
    for (const auto& [name, schedule] : runs) {
      demand << " " << schedule[static_cast<size_t>(h - from)] + 1;
    }
    demand << "\n";
  }
  cost << "hour";
  for (const auto& [name, schedule] : runs) cost << " " << name;
  cost << "\n";
  std::vector<double> sums(runs.size(), 0);
  for (size_t h = 0; !hourly.empty() && h < hourly[0].size(); ++h) {
    cost << h;
    for (size_t r = 0; r < runs.size(); ++r) {
      sums[r] += hourly[r][h];
      cost << " " << sums[r];
    }
    cost << "\n";
  }
  return absl::OkStatus();
}

std::string Row(const std::string& name, const ScheduleReport& r) {
  const CostParts& c = r.cost;
  return absl::StrFormat(
      "| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %d | %.1f | %.3f |", name, c.total(),
      c.compute, c.electricity, c.latency, c.egress, c.moves, r.mean_rtt_ms, r.migrations,
      r.freeze_seconds, r.best_location_share);
}

// The settings among `grid` whose policy costs least in `run` (the first of equals).
template <typename Options, typename Make, typename Run>
absl::StatusOr<Options> Cheapest(const std::vector<Options>& grid, Make make, Run run) {
  std::optional<Options> best;
  double least = std::numeric_limits<double>::infinity();
  for (const Options& o : grid) {
    std::unique_ptr<Policy> policy = make(o);
    absl::StatusOr<PolicyRun> r = run(*policy);
    if (!r.ok()) return r.status();
    if (r->report.cost.total() < least) {
      least = r->report.cost.total();
      best = o;
    }
  }
  if (!best.has_value()) return absl::InvalidArgumentError("an empty tuning grid");
  return *best;
}

absl::Status Run() {
  const absl::Time began = absl::Now();
  absl::StatusOr<EvaluationConfig> loaded = LoadEvaluationConfig(absl::GetFlag(FLAGS_config));
  if (!loaded.ok()) return loaded.status();
  EvaluationConfig config = *std::move(loaded);
  absl::StatusOr<DemandTrace> trace = TraceOf(config);
  if (!trace.ok()) return trace.status();
  const int hours = trace->hours();
  if (hours < 4 * 168) return absl::FailedPreconditionError("the trace is under four weeks");
  const int split = hours / 2;
  // The training half's first two weeks are the policies' history, not scored.
  const int warmup = std::min(336, split / 2);
  const DemandTrace train = Head(*trace, split);
  absl::StatusOr<CostTable> train_table = CostTable::Build(config.world, train);
  if (!train_table.ok()) return train_table.status();
  absl::StatusOr<CostTable> table = CostTable::Build(config.world, *trace);
  if (!table.ok()) return table.status();

  // Placed where it would have cost least over the training half: static's location, and where
  // every policy starts.
  int start = 0;
  double least = std::numeric_limits<double>::infinity();
  for (int l = 0; l < static_cast<int>(table->locations().size()); ++l) {
    double sum = 0;
    for (int h = 0; h < split; ++h) sum += train_table->Serve(h, l).total();
    if (sum < least) {
      least = sum;
      start = l;
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
      predictive_grid.push_back(o);
    }
  }
  auto train_run = [&](Policy& p) {
    return Simulate(p, *train_table, config.world, train, start, warmup);
  };
  absl::StatusOr<ReactiveOptions> best_reactive = Cheapest(
      reactive_grid, [](const ReactiveOptions& o) { return ReactivePolicy(o); }, train_run);
  if (!best_reactive.ok()) return best_reactive.status();
  absl::StatusOr<PredictiveOptions> best_predictive = Cheapest(
      predictive_grid,
      [&config](const PredictiveOptions& o) { return PredictivePolicy(&config.world, o); },
      train_run);
  if (!best_predictive.ok()) return best_predictive.status();

  // Scored on the second half.
  std::vector<PolicyRun> runs;
  std::vector<std::unique_ptr<Policy>> policies;
  policies.push_back(StaticPolicy());
  policies.push_back(ReactivePolicy(*best_reactive));
  policies.push_back(PredictivePolicy(&config.world, *best_predictive));
  for (auto& p : policies) {
    absl::StatusOr<PolicyRun> run = Simulate(*p, *table, config.world, *trace, start, split);
    if (!run.ok()) return run.status();
    runs.push_back(*std::move(run));
  }
  const DemandTrace test = Tail(*trace, split);
  absl::StatusOr<CostTable> test_table = CostTable::Build(config.world, test);
  if (!test_table.ok()) return test_table.status();
  absl::StatusOr<OracleSchedule> oracle = Oracle(*test_table, start, {config.min_dwell_hours});
  if (!oracle.ok()) return oracle.status();
  absl::StatusOr<ScheduleReport> oracle_report =
      Charge(*test_table, config.world, oracle->schedule, start);
  if (!oracle_report.ok()) return oracle_report.status();

  std::cout << absl::StrFormat(
      "%s trace: %d hours from %s, %d origin regions, locations %s; trained on hours 0-%d "
      "(scored from %d), scored on hours %d-%d; every policy starts at %s\n\n",
      config.trace, hours, absl::FormatTime("%Y-%m-%d", trace->start, absl::UTCTimeZone()),
      static_cast<int>(trace->regions.size()), absl::StrJoin(table->locations(), ", "), split - 1,
      warmup, split, hours - 1, table->locations()[static_cast<size_t>(start)]);
  std::cout << "| policy | total $ | compute $ | electricity $ | latency $ | egress $ | moves $ | "
               "mean RTT ms | migrations | freeze s | best-location share |\n"
               "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
  for (const PolicyRun& r : runs) std::cout << Row(r.policy, r.report) << "\n";
  std::cout << Row("oracle", *oracle_report) << "\n\n";
  if (const std::string prefix = absl::GetFlag(FLAGS_plot_data); !prefix.empty()) {
    std::vector<std::pair<std::string, std::vector<int>>> schedules;
    std::vector<std::vector<double>> hourly;
    for (const PolicyRun& r : runs) {
      schedules.emplace_back(r.policy,
                             std::vector<int>(r.schedule.begin() + split, r.schedule.end()));
      hourly.push_back(r.report.hourly_cost);
    }
    schedules.emplace_back("oracle", oracle->schedule);
    hourly.push_back(oracle_report->hourly_cost);
    if (absl::Status s = WritePlotData(prefix, *trace, split, schedules, hourly); !s.ok()) return s;
    std::cout << "plot data: " << prefix << "-demand.dat, " << prefix << "-cost.dat (locations: ";
    for (size_t l = 0; l < table->locations().size(); ++l) {
      std::cout << (l == 0 ? "" : ", ") << l + 1 << " " << table->locations()[l];
    }
    std::cout << ")\n";
  }
  const double static_cost = runs[0].report.cost.total();
  const double oracle_saving = static_cost - oracle_report->cost.total();
  std::cout << absl::StrFormat(
      "oracle saves $%.2f (%.1f%% of static); predictive saves $%.2f (%.1f%% of the oracle's "
      "saving); reactive $%.2f (%.1f%%)\n",
      oracle_saving, 100 * oracle_saving / static_cost, static_cost - runs[2].report.cost.total(),
      oracle_saving > 0 ? 100 * (static_cost - runs[2].report.cost.total()) / oracle_saving : 0,
      static_cost - runs[1].report.cost.total(),
      oracle_saving > 0 ? 100 * (static_cost - runs[1].report.cost.total()) / oracle_saving : 0);
  std::cout << absl::StrFormat(
      "chosen on the training half: reactive window %d h, hysteresis %.2f; predictive horizon "
      "%d h, threshold %.2f; %.1f s in all\n",
      best_reactive->window_hours, best_reactive->gates.hysteresis_relative,
      absl::ToInt64Hours(best_predictive->settings.horizon),
      best_predictive->settings.migration_threshold, absl::ToDoubleSeconds(absl::Now() - began));
  return absl::OkStatus();
}

}  // namespace
}  // namespace shadowplane::evaluation

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status s = shadowplane::evaluation::Run();
  if (!s.ok()) {
    std::cerr << "evaluation: " << s << "\n";
    return 1;
  }
  return 0;
}
