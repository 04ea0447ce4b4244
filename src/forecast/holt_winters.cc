#include "forecast/holt_winters.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace shadowplane::forecast {

namespace {
constexpr int kAlpha = 0, kBeta = 1, kGamma = 2, kPhi = 3;
constexpr int kInitialSeasons = 7;
}  // namespace

std::string HoltWinters::name() const {
  return absl::StrCat("hw_", options_.seasonality == Seasonality::kAdditive ? "add" : "mul",
                      options_.trend ? (options_.damped ? "_damped" : "_trend") : "", "_",
                      options_.period);
}

HoltWinters::State HoltWinters::Initial(absl::Span<const double> y) const {
  const int m = options_.period;
  // Up to a week of seasons: one season alone makes a noisy seasonal shape.
  const int seasons = std::max(2, std::min<int>(kInitialSeasons, y.size() / m));
  State s;
  std::vector<double> means(seasons);
  for (int k = 0; k < seasons; ++k) {
    means[k] = std::accumulate(y.begin() + k * m, y.begin() + (k + 1) * m, 0.0) / m;
  }
  const double level = std::accumulate(means.begin(), means.end(), 0.0) / seasons;
  s.trend = options_.trend ? (means.back() - means.front()) / ((seasons - 1) * m) : 0;
  s.season.assign(m, 0);
  for (int k = 0; k < seasons; ++k) {
    for (int i = 0; i < m; ++i) {
      const double v = y[k * m + i];
      s.season[i] +=
          (options_.seasonality == Seasonality::kAdditive ? v - means[k] : v / means[k]) / seasons;
    }
  }
  // The seasons' mean stands at their middle hour; the recursion starts from the hour before
  // hour 0.
  s.level = level - s.trend * (seasons * m + 1) / 2.0;
  return s;
}

double HoltWinters::Step(State& s, double y, const double* p) const {
  const double alpha = p[kAlpha], beta = p[kBeta], gamma = p[kGamma], phi = p[kPhi];
  const bool additive = options_.seasonality == Seasonality::kAdditive;
  double& season = s.season[s.next % options_.period];
  ++s.next;
  const double base = s.level + phi * s.trend;
  const double forecast = additive ? base + season : base * season;
  const double error = y - forecast;
  const double level = additive ? alpha * (y - season) + (1 - alpha) * base
                                : alpha * (y / season) + (1 - alpha) * base;
  s.trend = beta * (level - s.level) + (1 - beta) * phi * s.trend;
  season = additive ? gamma * (y - level) + (1 - gamma) * season
                    : gamma * (y / level) + (1 - gamma) * season;
  s.level = level;
  return additive || level > 0 ? error : INFINITY;
}

double HoltWinters::Run(absl::Span<const double> y, const double* p, bool keep) {
  return SumSquaredErrors(
      initial_, y, [&](State& s, double v) { return Step(s, v, p); }, keep ? &state_ : nullptr);
}

absl::Status HoltWinters::CheckHistory(absl::Span<const double> y) const {
  if (options_.seasonality == Seasonality::kMultiplicative &&
      *std::min_element(y.begin(), y.end()) <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(name(), ": multiplicative seasonality needs positive values"));
  }
  return absl::OkStatus();
}

SmoothingModel::Box HoltWinters::Bounds() const {
  Box box{Eigen::VectorXd(4), Eigen::VectorXd(4), Eigen::VectorXd(4)};
  box.lower << 0.0, 0.0, 0.0, options_.damped ? options_.min_phi : 1.0;
  box.upper << options_.max_alpha, options_.trend ? options_.max_beta : 0.0, 1.0,
      options_.damped ? options_.max_phi : 1.0;
  box.cold_start << std::min(0.3, options_.max_alpha), options_.trend ? options_.max_beta / 4 : 0,
      0.1, options_.damped ? (options_.min_phi + options_.max_phi) / 2 : 1;
  return box;
}

std::vector<double> HoltWinters::Forecast(int horizon) const {
  const bool additive = options_.seasonality == Seasonality::kAdditive;
  const int m = options_.period;
  const double phi = fitted()[kPhi];
  std::vector<double> out(horizon);
  double damped = 0, power = 1;
  for (int h = 1; h <= horizon; ++h) {
    power *= phi;
    damped += power;
    const double base = state_.level + damped * state_.trend;
    const double season = state_.season[(state_.next + h - 1) % m];
    out[h - 1] = additive ? base + season : base * season;
  }
  return out;
}

}  // namespace shadowplane::forecast
