#include "evaluation/simulator.h"

#include <cmath>

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

std::optional<ForecastAccuracy> ScoreForecasts(const std::vector<MadeForecast>& made,
                                               const DemandTrace& trace, int score_from) {
  if (made.empty()) return std::nullopt;
  ForecastAccuracy a;
  double smape = 0;
  int covered = 0;
  for (const MadeForecast& f : made) {
    for (size_t j = 0; j < f.point.size(); ++j) {
      const int h = f.hour + static_cast<int>(j);
      if (h < score_from || h >= trace.hours()) continue;
      const double actual = trace.Total(h);
      const double denominator = std::abs(f.point[j]) + std::abs(actual);
      smape += denominator > 0 ? 200 * std::abs(f.point[j] - actual) / denominator : 0;
      if (j < f.low80.size() && j < f.high80.size() && actual >= f.low80[j] &&
          actual <= f.high80[j]) {
        ++covered;
      }
      ++a.points;
    }
  }
  if (a.points > 0) {
    a.smape = smape / a.points;
    a.coverage80 = static_cast<double>(covered) / a.points;
  }
  return a;
}

absl::StatusOr<PolicyRun> Simulate(Policy& policy, const CostTable& table, const World& world,
                                   const DemandTrace& trace, int start, int score_from) {
  const int n = table.size();
  if (start < 0 || start >= n) return absl::InvalidArgumentError("start is not a placement");
  if (trace.hours() != table.hours()) {
    return absl::InvalidArgumentError("the trace and the cost table differ in length");
  }
  if (score_from < 0 || score_from >= trace.hours()) {
    return absl::InvalidArgumentError("score_from is outside the trace");
  }
  PolicyRun run;
  run.policy = policy.name();
  MoveLog moves;
  int at = start;
  for (int h = 0; h < trace.hours(); ++h) {
    if (table.Interrupted(h, at)) {
      // The urgent fallback: on-demand at the same location, whatever the dwell.
      const int fallback = table.IndexOf(table.placements()[static_cast<size_t>(at)].location);
      moves.Note(h, at);
      at = fallback;
    }
    const PolicyView view(&world, &table, &trace, h, at, &moves);
    ASSIGN_OR_RETURN(const int chosen, policy.Choose(view));
    if (chosen < 0 || chosen >= n) {
      return absl::InternalError(
          absl::StrCat(policy.name(), " chose placement ", chosen, " at hour ", h));
    }
    if (chosen != at && !table.Interrupted(h, chosen)) {
      // Right after a fallback the hour's one move is noted already (from where it began).
      if (moves.hours.empty() || moves.hours.back() != h) moves.Note(h, at);
      at = chosen;
    }
    run.schedule.push_back(at);
  }
  ASSIGN_OR_RETURN(run.report, Charge(table, world, run.schedule, start, score_from));
  run.accuracy = ScoreForecasts(policy.forecasts(), trace, score_from);
  return run;
}

}  // namespace shadowplane::evaluation
