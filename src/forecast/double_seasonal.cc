#include "forecast/double_seasonal.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace shadowplane::forecast {

namespace {
constexpr int kInitialWeeks = 8;
}  // namespace

DoubleSeasonal::State DoubleSeasonal::Initial(absl::Span<const double> y) const {
  State s;
  const int weeks = std::max<int>(2, std::min<int>(kInitialWeeks, y.size() / kWeek));
  const int n = weeks * kWeek;
  double level = 0;
  for (int t = 0; t < n; ++t) level += y[t] / n;
  s.level = level;
  s.day.assign(kDay, 0);
  s.week.assign(kWeek, 0);
  for (int t = 0; t < n; ++t) s.day[t % kDay] += (y[t] - level) / (n / kDay);
  for (int t = 0; t < n; ++t) s.week[t % kWeek] += (y[t] - level - s.day[t % kDay]) / weeks;
  return s;
}

double DoubleSeasonal::Step(State& s, double y, const double* p) const {
  const double alpha = p[0], delta = p[1], omega = p[2], phi = p[3];
  double& d = s.day[s.next % kDay];
  double& w = s.week[s.next % kWeek];
  ++s.next;
  const double structural = s.level + d + w;
  const double error = y - (structural + phi * s.error);
  const double level = alpha * (y - d - w) + (1 - alpha) * s.level;
  const double new_d = delta * (y - level - w) + (1 - delta) * d;
  const double new_w = omega * (y - level - d) + (1 - omega) * w;
  s.level = level;
  d = new_d;
  w = new_w;
  s.error = y - structural;
  return error;
}

double DoubleSeasonal::Run(absl::Span<const double> y, const double* p, bool keep) {
  return SumSquaredErrors(
      initial_, y, [&](State& s, double v) { return Step(s, v, p); }, keep ? &state_ : nullptr);
}

SmoothingModel::Box DoubleSeasonal::Bounds() const {
  Box box{Eigen::VectorXd(4), Eigen::VectorXd(4), Eigen::VectorXd(4)};
  box.lower << 0, 0, 0, 0;
  box.upper << max_alpha_, 1, 1, 0.99;
  box.cold_start << std::min(0.1, max_alpha_ / 2), 0.1, 0.1, 0.5;
  return box;
}

std::vector<double> DoubleSeasonal::Forecast(int horizon) const {
  std::vector<double> out(horizon);
  double ar = 1;
  for (int h = 1; h <= horizon; ++h) {
    ar *= fitted()[3];
    const int t = state_.next + h - 1;
    out[h - 1] = state_.level + state_.day[t % kDay] + state_.week[t % kWeek] + ar * state_.error;
  }
  return out;
}

}  // namespace shadowplane::forecast
