#include "forecast/intervals.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"

namespace shadowplane::forecast {

namespace {

// Linear interpolation between order statistics (R's type 7, numpy's default). Reorders
// `sample` (selection, not a full sort: a few quantiles of a few hundred values each).
double Quantile(std::vector<double>& sample, double q) {
  const double pos = q * (sample.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  std::nth_element(sample.begin(), sample.begin() + lo, sample.end());
  const double low = sample[lo];
  if (lo + 1 >= sample.size()) return low;
  const double high = *std::min_element(sample.begin() + lo + 1, sample.end());
  return low + (pos - lo) * (high - low);
}

// The spread for quantile q: spread_80 at a tail probability of 0.1, spread_95 at 0.025,
// interpolated in log(tail probability) between, flat beyond.
double SpreadFor(double q, const IntervalOptions& options) {
  const double tail = std::min(q, 1 - q);
  if (tail >= 0.1) return options.spread_80;
  if (tail <= 0.025) return options.spread_95;
  const double t = std::log(0.1 / tail) / std::log(0.1 / 0.025);
  return options.spread_80 + t * (options.spread_95 - options.spread_80);
}

}  // namespace

absl::StatusOr<std::vector<std::vector<double>>> ForecastQuantiles(const EnsembleForecast& f,
                                                                   const std::vector<double>& qs,
                                                                   const IntervalOptions& options) {
  for (double q : qs) {
    if (!(q > 0 && q < 1)) {
      return absl::InvalidArgumentError(absl::StrCat("quantile ", q, " is outside (0, 1)"));
    }
  }
  const int h = static_cast<int>(f.point.size());
  std::vector<std::vector<double>> out(qs.size(), f.point);
  if (f.origins == 0) return out;  // no backtest: no spread
  // The error scale at each lead: the mean absolute backtest error over neighbouring leads.
  std::vector<double> scale(h, 0.0);
  for (int j = 0; j < h; ++j) {
    int count = 0;
    for (int l = std::max(0, j - options.window); l <= std::min(h - 1, j + options.window); ++l) {
      for (int k = 0; k < f.origins; ++k) scale[j] += std::abs(f.errors[k * f.horizon + l]);
      count += f.origins;
    }
    scale[j] /= count;
  }
  // Errors in units of their lead's scale, pooled over every lead: one distribution, whose
  // quantiles are then scaled back per lead.
  std::vector<double> units;
  units.reserve(f.errors.size());
  for (int k = 0; k < f.origins; ++k) {
    for (int j = 0; j < h; ++j) {
      if (scale[j] > 0) units.push_back(f.errors[k * f.horizon + j] / scale[j]);
    }
  }
  if (units.empty()) return out;  // a perfect backtest
  // The spread widens the distribution around its median (a biased backtest stays biased, and
  // every interval widens as the spread grows).
  const double median = Quantile(units, 0.5);
  for (size_t i = 0; i < qs.size(); ++i) {
    const double z = median + SpreadFor(qs[i], options) * (Quantile(units, qs[i]) - median);
    for (int j = 0; j < h; ++j) out[i][j] = std::max(0.0, f.point[j] + scale[j] * z);
  }
  return out;
}

absl::StatusOr<JointPaths> SampleJointPaths(const std::vector<const EnsembleForecast*>& regions,
                                            int paths, uint64_t seed) {
  if (paths < 1) return absl::InvalidArgumentError(absl::StrCat("paths must be at least 1"));
  if (regions.empty()) return absl::FailedPreconditionError("no regions to sample");
  const int origins = regions[0]->origins, h = regions[0]->horizon;
  for (const EnsembleForecast* r : regions) {
    if (r->origins != origins || r->horizon != h || r->origins == 0) {
      return absl::FailedPreconditionError(
          "regions' backtests differ in origins or horizon, or are missing: no joint paths");
    }
  }
  JointPaths out;
  out.paths = paths;
  out.horizon = h;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pick(0, origins - 1);
  out.origins.resize(paths);
  for (int& k : out.origins) k = pick(rng);
  out.values.assign(regions.size(), std::vector<float>(static_cast<size_t>(paths) * h));
  for (size_t r = 0; r < regions.size(); ++r) {
    for (int p = 0; p < paths; ++p) {
      const double* e = &regions[r]->errors[static_cast<size_t>(out.origins[p]) * h];
      for (int j = 0; j < h; ++j) {
        out.values[r][static_cast<size_t>(p) * h + j] =
            static_cast<float>(std::max(0.0, regions[r]->point[j] + e[j]));
      }
    }
  }
  return out;
}

}  // namespace shadowplane::forecast
