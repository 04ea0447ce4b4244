// The trace-driven evaluation at fleet scale (bench/run_evaluation_scale.sh): the same forecaster
// and planner as src/evaluation/policy.h's `predictive`, over --resources resources with one
// origin region each of the configuration's EIA regions (13 by default), each with its own seeded
// synthetic trace (forecast/synthetic_trace.h: local daily and weekly cycles, noise, campaigns),
// --history_days of history, then --hours simulated hourly ticks. Every --refit_hours the whole
// fleet is re-forecast (a refresh pass, as forecast/forecast_refresher.h does when every resource
// is due, warm-started from the last pass after the first) on --threads threads; every hour the
// planner decides for every resource (planner/move_decision.h, as the planner loop's tick),
// moves applied. Prints the time of each pass and tick and the peak memory (VmHWM).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "evaluation/evaluation_config.h"
#include "forecast/forecaster.h"
#include "forecast/synthetic_trace.h"
#include "planner/move_decision.h"
#include "planner/outlook_builder.h"

ABSL_FLAG(std::string, config, "bench/evaluation/eia.yaml",
          "The configuration whose locations, prices and EIA regions (the origins) are used");
ABSL_FLAG(int, resources, 10000, "Resources in the fleet");
ABSL_FLAG(int, history_days, 21, "Days of history before the simulated hours");
ABSL_FLAG(int, hours, 24, "Simulated hours (one planner tick each)");
ABSL_FLAG(int, refit_hours, 6,
          "Hours between refresh passes (the server's --forecast_refit_hours)");
ABSL_FLAG(int, threads, 0, "Forecasting threads (0: every core)");

namespace shadowplane::evaluation {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

int64_t PeakResidentKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

// One resource's own trace: the regions with bases drawn from its seed.
forecast::TraceProfile ProfileOf(const EvaluationConfig& config, int resource, absl::Time start,
                                 int hours) {
  forecast::TraceProfile p;
  p.seed = 1000003ULL * static_cast<uint64_t>(resource) + 17;
  p.start = start;
  p.hours = hours;
  uint64_t x = p.seed;
  for (const EiaRegion& r : config.eia_regions) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;  // an LCG step: the region's base
    const double base = 50 + static_cast<double>(x >> 40) / (1 << 24) * 950;
    p.regions.push_back(
        {r.name, r.latitude, r.longitude, static_cast<int>(std::lround(r.longitude / 15)), base});
  }
  return p;
}

// What a resource keeps between passes: the warm start (models and parameters only, as the
// refresher reads them back from the database) and the windows' sums the planner reads.
struct Resource {
  std::vector<store::ForecastRecord> warm;
  std::map<absl::Time, store::PathSumsRecord> sums;
  std::string location;
  planner::MoveHistory history;
};

absl::Status Run() {
  absl::StatusOr<EvaluationConfig> loaded = LoadEvaluationConfig(absl::GetFlag(FLAGS_config));
  if (!loaded.ok()) return loaded.status();
  EvaluationConfig config = *std::move(loaded);
  if (config.eia_regions.empty()) {
    return absl::InvalidArgumentError("the configuration names no eia_regions (the origins)");
  }
  for (const EiaRegion& r : config.eia_regions) {
    config.world.regions[r.name] = {r.name, {r.latitude, r.longitude}};
  }
  const int n = absl::GetFlag(FLAGS_resources);
  const int sim_hours = absl::GetFlag(FLAGS_hours);
  const int refit = absl::GetFlag(FLAGS_refit_hours);
  const int history_hours = absl::GetFlag(FLAGS_history_days) * 24;
  int threads = absl::GetFlag(FLAGS_threads);
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (n < 1 || sim_hours < 1 || refit < 1 || history_hours < 48) {
    return absl::InvalidArgumentError("resources, hours, refit_hours >= 1; history_days >= 2");
  }
  const absl::Time start = absl::FromUnixSeconds(1736121600);  // Monday 2025-01-06 00:00 UTC
  const int total_hours = history_hours + sim_hours;

  planner::PlannerSettings settings;
  settings.mode = planner::PlannerMode::kAuto;
  forecast::ForecasterOptions options;
  options.path_sums.window_hours = static_cast<int>(absl::ToInt64Hours(settings.horizon));
  options.path_sums.starts = refit + 2;
  FakeClock fake(absl::UnixEpoch());
  forecast::Forecaster forecaster(nullptr, &fake, options, nullptr);

  std::vector<std::string> names;
  for (const auto& [name, facts] : config.world.locations) names.push_back(name);
  std::vector<Resource> fleet(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) fleet[static_cast<size_t>(i)].location = names[i % names.size()];

  std::cout << absl::StrFormat(
      "%d resources x %d origin regions, %d days of history, %d simulated hours, refresh every "
      "%d h on %d threads, %d candidate locations\n\n",
      n, static_cast<int>(config.eia_regions.size()), history_hours / 24, sim_hours, refit, threads,
      static_cast<int>(names.size()));
  std::cout << "| hour | refresh pass s | series/s | of it trace generation s | failed | "
               "planner tick s | decisions/s | moves |\n| --- | --- | --- | --- | --- | --- | "
               "--- | --- |\n";
  double worst_pass = 0, worst_tick = 0;
  int64_t moves_total = 0;
  for (int s = 0; s < sim_hours; ++s) {
    const absl::Time now = start + absl::Hours(history_hours + s);
    std::string pass_cell = "-", rate_cell = "-", generation_cell = "-", failed_cell = "-";
    if (s % refit == 0) {
      std::atomic<int> next{0};
      std::atomic<int> failed{0};
      std::vector<double> generation(static_cast<size_t>(threads), 0);
      const Clock::time_point began = Clock::now();
      std::vector<std::thread> workers;
      for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
          for (int i = next++; i < n; i = next++) {
            const Clock::time_point g = Clock::now();
            absl::StatusOr<forecast::Trace> trace =
                forecast::GenerateTrace(ProfileOf(config, i, start, total_hours));
            if (!trace.ok()) {
              ++failed;
              continue;
            }
            forecast::ComputationInput in;
            in.resource_id = absl::StrFormat("r%05d", i);
            in.now = now;
            const int hour = history_hours + s;
            const int from =
                std::max(0, hour - static_cast<int>(absl::ToInt64Hours(options.history)));
            in.history.first_hour = start + absl::Hours(from);
            in.history.total.assign(static_cast<size_t>(hour - from), 0);
            for (size_t r = 0; r < trace->regions.size(); ++r) {
              std::vector<double>& series = in.history.regions[trace->regions[r].name];
              for (int h = from; h < hour; ++h) {
                const double q = trace->demand[r][static_cast<size_t>(h)];
                series.push_back(q);
                in.history.total[static_cast<size_t>(h - from)] += q;
              }
              in.bytes_per_request[trace->regions[r].name] = config.bytes_per_request;
            }
            generation[static_cast<size_t>(t)] += Seconds(g);
            Resource& resource = fleet[static_cast<size_t>(i)];
            absl::StatusOr<forecast::Computation> c =
                forecaster.ComputeFrom(in, resource.warm, absl::InfiniteFuture());
            if (!c.ok()) {
              ++failed;
              continue;
            }
            resource.warm.clear();
            for (const store::ForecastRecord& r : c->records) {
              store::ForecastRecord slim;
              slim.origin_region = r.origin_region;
              slim.models = r.models;
              slim.parameters = r.parameters;
              resource.warm.push_back(std::move(slim));
            }
            resource.sums.clear();
            for (store::PathSumsRecord& p : c->path_sums) {
              resource.sums[p.start_hour] = std::move(p);
            }
          }
        });
      }
      for (std::thread& w : workers) w.join();
      const double pass = Seconds(began);
      worst_pass = std::max(worst_pass, pass);
      double generated = 0;
      for (double g : generation) generated += g / threads;
      const double series = static_cast<double>(n) * (config.eia_regions.size() + 1);
      pass_cell = absl::StrFormat("%.1f", pass);
      rate_cell = absl::StrFormat("%.0f", series / pass);
      generation_cell = absl::StrFormat("%.1f", generated);
      failed_cell = absl::StrFormat("%d", failed.load());
    }
    // The planner's tick: one decision per resource from its windows' sums for this hour.
    planner::PlanContext context;
    context.locations = &config.world.locations;
    context.regions = &config.world.regions;
    context.rtt = &config.world.rtt;
    context.prices = config.world.prices;
    context.max_forecast_age = absl::Hours(refit + 2);
    const Clock::time_point tick = Clock::now();
    int moves = 0;
    for (int i = 0; i < n; ++i) {
      Resource& resource = fleet[static_cast<size_t>(i)];
      const auto sums = resource.sums.find(now);
      if (sums == resource.sums.end()) continue;
      const planner::DemandOutlook demand = planner::OutlookOfSums(sums->second);
      planner::PlanSubject subject;
      subject.resource_id = sums->second.resource_id;
      subject.current_location = resource.location;
      subject.capacity = config.world.capacity;
      subject.allowed_locations = names;
      subject.settings = settings;
      subject.move = config.world.move;
      subject.history = resource.history;
      const planner::PlanDecision d = planner::Decide(subject, &demand, context, now);
      if (d.outcome == planner::PlanOutcome::kMove) {
        resource.history.migration_starts.push_back(now);
        resource.history.last_migration_finished = now;
        resource.history.left_at = now;
        resource.history.last_left_location = resource.location;
        resource.location = d.to_location;
        ++moves;
      }
    }
    const double tick_seconds = Seconds(tick);
    worst_tick = std::max(worst_tick, tick_seconds);
    moves_total += moves;
    std::cout << absl::StrFormat("| %d | %s | %s | %s | %s | %.2f | %.0f | %d |\n", s, pass_cell,
                                 rate_cell, generation_cell, failed_cell, tick_seconds,
                                 n / tick_seconds, moves)
              << std::flush;
  }
  std::cout << absl::StrFormat(
      "\nslowest refresh pass %.1f s (target under 60 s), slowest planner tick %.2f s (target "
      "under 5 s), %d moves, peak memory %.0f MiB\n",
      worst_pass, worst_tick, static_cast<int>(moves_total), PeakResidentKib() / 1024.0);
  return absl::OkStatus();
}

}  // namespace
}  // namespace shadowplane::evaluation

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status s = shadowplane::evaluation::Run();
  if (!s.ok()) {
    std::cerr << "evaluation_scale: " << s << "\n";
    return 1;
  }
  return 0;
}
