// Does prediction pay? The trace-driven evaluation (bench/run_evaluation.sh): a demand trace from
// a committed configuration (bench/evaluation/*.yaml) evaluated by src/evaluation/evaluation.h
// (static, reactive and predictive replayed hour by hour, the oracle offline; settings chosen on
// the first half, scored on the second). Prints the markdown table, and the plots' data on demand.
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
#include "evaluation/evaluation.h"
#include "forecast/synthetic_trace.h"

ABSL_FLAG(std::string, config, "bench/evaluation/synthetic.yaml", "The evaluation's configuration");
ABSL_FLAG(std::string, eia_dir, "../shared/data/eia-regions",
          "The EIA regional demand folder (trace: eia), one <REGION>.csv per region");
ABSL_FLAG(std::string, plot_data, "",
          "When set: the prefix of the plots' data files (<prefix>-demand.dat: two weeks of the "
          "held-out half, demand by region and each policy's placement, numbered from 1 in the "
          "order of <prefix>-placements.txt; <prefix>-cost.dat: cumulative cost by policy over "
          "the held-out half)");

namespace shadowplane::evaluation {
namespace {

// The trace of `config`, its origins placed in config.world; the synthetic trace's announced
// campaigns into `announced` (with their uplift, as whoever registers an event estimates it).
absl::StatusOr<DemandTrace> TraceOf(EvaluationConfig& config,
                                    std::vector<forecast::DemandEvent>* announced) {
  DemandTrace trace;
  if (config.trace == "synthetic") {
    const forecast::TraceProfile profile = forecast::DefaultTraceProfile();
    absl::StatusOr<forecast::Trace> generated = forecast::GenerateTrace(profile);
    if (!generated.ok()) return generated.status();
    trace = DemandTraceOf(*generated, config.bytes_per_request);
    for (const forecast::TraceRegion& r : generated->regions) {
      config.world.regions[r.name] = {r.name, {r.latitude, r.longitude}};
    }
    for (const forecast::TraceCampaign& c : generated->campaigns) {
      if (!c.announced) continue;
      announced->push_back({c.start, c.start + absl::Hours(c.hours), {c.region}, c.uplift});
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

absl::Status Run() {
  const absl::Time began = absl::Now();
  absl::StatusOr<EvaluationConfig> loaded = LoadEvaluationConfig(absl::GetFlag(FLAGS_config));
  if (!loaded.ok()) return loaded.status();
  EvaluationConfig config = *std::move(loaded);
  std::vector<forecast::DemandEvent> announced;
  absl::StatusOr<DemandTrace> trace = TraceOf(config, &announced);
  if (!trace.ok()) return trace.status();
  if (absl::Status s = AddSpotMarkets(config, trace->hours()); !s.ok()) return s;
  absl::StatusOr<EvaluationResult> result = Evaluate(config, *trace, announced);
  if (!result.ok()) return result.status();
  const EvaluationResult& r = *result;

  std::cout << absl::StrFormat(
      "%s trace: %d hours from %s, %d origin regions, placements %s; trained on hours 0-%d "
      "(scored from %d), scored on hours %d-%d; every policy starts at %s\n",
      config.trace, r.hours, absl::FormatTime("%Y-%m-%d", trace->start, absl::UTCTimeZone()),
      static_cast<int>(trace->regions.size()), absl::StrJoin(r.placements, ", "), r.split - 1,
      r.warmup, r.split, r.hours - 1, r.placements[static_cast<size_t>(r.start)]);
  const MoveTimes times = TimesOf(config.world.migration, config.world.move.data_bytes);
  std::cout << absl::StrFormat(
      "a move: pre-copy %.1f s, final round %d bytes, write freeze %.2f s (default freeze "
      "model)",
      times.precopy_seconds, times.final_round_bytes, times.freeze_seconds);
  for (const auto& [name, market] : config.world.spot) {
    int hours = 0;
    double share = 0;
    for (size_t h = static_cast<size_t>(r.split); h < market.price_share.size(); ++h) {
      if (market.interrupted[h]) continue;
      share += market.price_share[h];
      ++hours;
    }
    std::cout << absl::StrFormat(
        "; %s spot at %.2f of on-demand on average, reclaimed %d times in the scored half", name,
        hours > 0 ? share / hours : 0,
        WorldFrom(config.world, r.split).spot.at(name).Interruptions());
  }
  std::cout << "\n\n" << FormatTable(r);
  if (const std::string prefix = absl::GetFlag(FLAGS_plot_data); !prefix.empty()) {
    std::vector<std::pair<std::string, std::vector<int>>> schedules;
    std::vector<std::vector<double>> hourly;
    // static, reactive and predictive as tuned (the plots leave the untuned run out).
    for (size_t i = 0; i < 3 && i < r.runs.size(); ++i) {
      const PolicyRun& run = r.runs[i];
      schedules.emplace_back(run.policy,
                             std::vector<int>(run.schedule.begin() + r.split, run.schedule.end()));
      hourly.push_back(run.report.hourly_cost);
    }
    schedules.emplace_back("oracle", r.oracle.schedule);
    hourly.push_back(r.oracle.report.hourly_cost);
    if (absl::Status s = WritePlotData(prefix, *trace, r.split, schedules, hourly); !s.ok()) {
      return s;
    }
    std::ofstream names(prefix + "-placements.txt");
    names << absl::StrJoin(r.placements, " ") << "\n";
    if (!names) return absl::FailedPreconditionError(absl::StrCat("cannot write ", prefix, "-*"));
    std::cout << "plot data: " << prefix << "-demand.dat, -cost.dat, -placements.txt\n";
  }
  std::cout << absl::StrFormat(
      "chosen on the training half: reactive window %d h, hysteresis %.2f; predictive horizon "
      "%d h, threshold %.2f; %.1f s in all\n",
      r.reactive.window_hours, r.reactive.gates.hysteresis_relative,
      absl::ToInt64Hours(r.predictive.settings.horizon), r.predictive.settings.migration_threshold,
      absl::ToDoubleSeconds(absl::Now() - began));
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
