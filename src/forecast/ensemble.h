// Model selection and combination per series, by rolling-origin backtest on the series' own tail
// (forecast/backtest.h): every candidate is backtested over the same origins (as many as the first
// candidate's history allows, up to the option; a later candidate that needs more history than
// that is left out); the one with the
// smallest mean absolute error is used alone when it wins clearly (below `clear_win` times every
// other candidate's), otherwise the candidates within `combine_within` of the best are combined,
// weighted by inverse backtest error. The combination's own backtest errors (the same weights
// applied to the candidates' errors) are what its intervals and sample paths come from.
//
// A series too short for `min_origins` origins of any candidate falls back to the simplest
// adequate model (seasonal naive 24, else level only, else the last value) with no backtest, and
// says so in `note`.
#ifndef SHADOWPLANE_FORECAST_ENSEMBLE_H_
#define SHADOWPLANE_FORECAST_ENSEMBLE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "forecast/backtest.h"
#include "forecast/forecast_model.h"

namespace shadowplane::forecast {

// The defaults were chosen on M4 Hourly's training data only (`forecast_bench tune`,
// bench/README.md).
struct EnsembleOptions {
  BacktestOptions backtest;
  double clear_win = 0.7;
  double combine_within = 2.0;
  // Candidates are compared on the backtest's last this many origins (the most recent behaviour);
  // 0: all of them. Intervals and paths always use every origin.
  int select_on_last_origins = 12;
};

struct EnsembleForecast {
  std::string method;               // "selected", "combined" or "fallback"
  std::vector<std::string> models;  // with their weights (summing to 1)
  std::vector<double> weights;
  std::vector<std::vector<double>> parameters;  // per model
  // From the end of the history: backtest.forecast_horizon values (at least `horizon`).
  std::vector<double> point;
  int origins = 0;                         // 0: no backtest (fallback)
  int horizon = 0;                         // the backtest's hours per origin (0: no backtest)
  std::vector<double> errors;              // the forecast's backtest errors, [k * horizon + j]
  double smape = 0, mase = 0;              // its backtest accuracy
  std::vector<BacktestResult> candidates;  // every candidate that could be backtested
  std::string note;                        // why it fell back
  bool candidates_failed = false;          // fell back because every candidate failed
};

// `candidates` in order of preference (ties go to the earlier). INVALID_ARGUMENT for a history
// value that is not finite; FAILED_PRECONDITION for an empty history.
absl::StatusOr<EnsembleForecast> ForecastEnsemble(
    std::vector<std::unique_ptr<ForecastModel>> candidates, absl::Span<const double> history,
    const EnsembleOptions& options);

// The simplest adequate model's forecast of `horizon` hours, no backtest: seasonal naive 24, else
// level only, else the last value (0 for an empty history). `y` must be finite.
EnsembleForecast SimplestForecast(absl::Span<const double> y, int horizon, std::string note);

// The default candidates, in order of preference: double seasonal (level smoothing <= 0.1),
// seasonal naive 24 and 168, seasonal mean of the last 7 days and of the last 3 weeks.
std::vector<std::unique_ptr<ForecastModel>> DefaultCandidates();

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_ENSEMBLE_H_
