// Prediction intervals and joint sample paths from backtest errors (forecast/ensemble.h).
//
// Quantiles: errors grow with the lead time, but their shape barely changes. So each lead's errors
// are divided by that lead's scale (the mean absolute backtest error over leads j - window ..
// j + window), the scaled errors of all leads and origins are pooled into one distribution, and the
// forecast's q-quantile at lead j is the point forecast plus the scale times that distribution's
// q-quantile, widened around its median by a spread (backtest errors of a fitted model understate
// errors on new data; the default was calibrated on M4 Hourly's training data, bench/README.md),
// clamped at zero: demand is never negative.
//
// Joint sample paths: path p takes one backtest origin k_p, drawn uniformly (seeded), and adds that
// origin's whole error trajectory to the point forecast of every region: the same k_p for all
// regions of a resource keeps their correlation (a surge seen in two regions at once stays joint),
// and a whole trajectory keeps the correlation across lead times.
#ifndef SHADOWPLANE_FORECAST_INTERVALS_H_
#define SHADOWPLANE_FORECAST_INTERVALS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "forecast/ensemble.h"

namespace shadowplane::forecast {

struct IntervalOptions {
  int window = 2;
  // How much wider than the backtest's own errors the intervals are, for the 80% (quantiles 0.1
  // and 0.9) and 95% (0.025 and 0.975) intervals; other quantiles interpolate in the log of their
  // tail probability, and extrapolate flat. On M4 Hourly's training data (the last 48 hours and the
  // 48 before, each forecast from the hours before them) the intervals cover 68.3% and 84.7% at 1,
  // and 80.1% at 1.4 and 95.3% at 1.7: shifts the backtest window did not see. On data whose
  // future behaves like its past (tests/forecast/ensemble_test.cc), 1 is calibrated.
  double spread_80 = 1.4;
  double spread_95 = 1.7;
};

// What intervals need of a forecast's backtest errors, small enough to store with it: the error
// scale per lead and the distribution of errors in units of that scale (kLevels evenly spaced
// quantiles, 0 to 1). Empty for a forecast without backtest (fallback) or a perfect one.
struct ErrorProfile {
  static constexpr int kLevels = 201;
  std::vector<double> lead_scale;
  std::vector<double> unit_quantiles;

  bool usable() const {
    return !lead_scale.empty() && unit_quantiles.size() == static_cast<size_t>(kLevels);
  }
  // Interpolated; q in [0, 1]. Only when usable().
  double UnitQuantile(double q) const;
};

ErrorProfile ProfileErrors(const EnsembleForecast& f, int window);

// INVALID_ARGUMENT naming the first q outside (0, 1).
absl::Status CheckQuantiles(const std::vector<double>& qs);

// Quantile q of the forecast `point`, whose first value is lead `first_lead` (0: the first hour
// forecast); leads past the profile's use its last lead's scale. The point itself without a
// usable profile.
std::vector<double> QuantileSeries(const ErrorProfile& profile, absl::Span<const double> point,
                                   int first_lead, double q, const IntervalOptions& options = {});

// quantiles[i][j]: quantile qs[i] at lead j. INVALID_ARGUMENT for a q outside (0, 1). A forecast
// without backtest errors (fallback) gets the point forecast for every quantile.
absl::StatusOr<std::vector<std::vector<double>>> ForecastQuantiles(
    const EnsembleForecast& f, const std::vector<double>& qs, const IntervalOptions& options = {});

struct JointPaths {
  int paths = 0;
  int horizon = 0;
  std::vector<int> origins;  // the backtest origin each path resampled
  // values[r][p * horizon + j]: region r (the order given), path p, lead j.
  std::vector<std::vector<float>> values;
};

// FAILED_PRECONDITION when the regions' backtests do not share origins and horizon (histories of
// different lengths) or have none; INVALID_ARGUMENT for paths < 1.
// `spread` widens each error around its lead's median as the intervals do (1: as observed).
absl::StatusOr<JointPaths> SampleJointPaths(const std::vector<const EnsembleForecast*>& regions,
                                            int paths, uint64_t seed, double spread = 1.0);

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_INTERVALS_H_
