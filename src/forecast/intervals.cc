#include "forecast/intervals.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"

namespace shadowplane::forecast {

namespace {

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

ErrorProfile ProfileErrors(const EnsembleForecast& f, int window) {
  ErrorProfile profile;
  if (f.origins == 0) return profile;
  const int h = f.horizon;
  profile.lead_scale.assign(h, 0.0);
  for (int j = 0; j < h; ++j) {
    int count = 0;
    for (int l = std::max(0, j - window); l <= std::min(h - 1, j + window); ++l) {
      for (int k = 0; k < f.origins; ++k) profile.lead_scale[j] += std::abs(f.errors[k * h + l]);
      count += f.origins;
    }
    profile.lead_scale[j] /= count;
  }
  std::vector<double> units;
  units.reserve(f.errors.size());
  for (int k = 0; k < f.origins; ++k) {
    for (int j = 0; j < h; ++j) {
      if (profile.lead_scale[j] > 0) units.push_back(f.errors[k * h + j] / profile.lead_scale[j]);
    }
  }
  if (units.empty()) {  // a perfect backtest: no spread
    profile.lead_scale.clear();
    return profile;
  }
  std::sort(units.begin(), units.end());
  profile.unit_quantiles.resize(ErrorProfile::kLevels);
  for (int i = 0; i < ErrorProfile::kLevels; ++i) {
    const double pos = static_cast<double>(i) / (ErrorProfile::kLevels - 1) * (units.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, units.size() - 1);
    profile.unit_quantiles[i] = units[lo] + (pos - lo) * (units[hi] - units[lo]);
  }
  return profile;
}

double ErrorProfile::UnitQuantile(double q) const {
  const double pos = q * (kLevels - 1);
  const int lo = std::min(static_cast<int>(std::floor(pos)), kLevels - 2);
  return unit_quantiles[lo] + (pos - lo) * (unit_quantiles[lo + 1] - unit_quantiles[lo]);
}

absl::Status CheckQuantiles(const std::vector<double>& qs) {
  for (double q : qs) {
    if (!(q > 0 && q < 1)) {
      return absl::InvalidArgumentError(absl::StrCat("quantile ", q, " is outside (0, 1)"));
    }
  }
  return absl::OkStatus();
}

std::vector<double> QuantileSeries(const ErrorProfile& profile, absl::Span<const double> point,
                                   int first_lead, double q, const IntervalOptions& options) {
  std::vector<double> out(point.begin(), point.end());
  if (!profile.usable()) return out;
  const double median = profile.UnitQuantile(0.5);
  const double z = median + SpreadFor(q, options) * (profile.UnitQuantile(q) - median);
  const int last = static_cast<int>(profile.lead_scale.size()) - 1;
  for (size_t j = 0; j < out.size(); ++j) {
    const double scale = profile.lead_scale[std::min(first_lead + static_cast<int>(j), last)];
    out[j] = std::max(0.0, out[j] + scale * z);
  }
  return out;
}

absl::StatusOr<std::vector<std::vector<double>>> ForecastQuantiles(const EnsembleForecast& f,
                                                                   const std::vector<double>& qs,
                                                                   const IntervalOptions& options) {
  if (absl::Status s = CheckQuantiles(qs); !s.ok()) return s;
  const ErrorProfile profile = ProfileErrors(f, options.window);
  std::vector<std::vector<double>> out;
  for (double q : qs) out.push_back(QuantileSeries(profile, f.point, 0, q, options));
  return out;
}

absl::StatusOr<JointPaths> SampleJointPaths(const std::vector<const EnsembleForecast*>& regions,
                                            int paths, uint64_t seed, double spread) {
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
  std::vector<double> median(h), lead;
  for (size_t r = 0; r < regions.size(); ++r) {
    const std::vector<double>& errors = regions[r]->errors;
    for (int j = 0; j < h && spread != 1.0; ++j) {
      lead.clear();
      for (int k = 0; k < origins; ++k) lead.push_back(errors[static_cast<size_t>(k) * h + j]);
      std::nth_element(lead.begin(), lead.begin() + lead.size() / 2, lead.end());
      median[j] = lead[lead.size() / 2];
    }
    for (int p = 0; p < paths; ++p) {
      const double* e = &errors[static_cast<size_t>(out.origins[p]) * h];
      for (int j = 0; j < h; ++j) {
        const double error = spread == 1.0 ? e[j] : median[j] + spread * (e[j] - median[j]);
        out.values[r][static_cast<size_t>(p) * h + j] =
            static_cast<float>(std::max(0.0, regions[r]->point[j] + error));
      }
    }
  }
  return out;
}

}  // namespace shadowplane::forecast
