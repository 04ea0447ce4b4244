#include "forecast/double_seasonal.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "forecast/nelder_mead.h"

namespace shadowplane::forecast {

std::vector<double> DoubleSeasonal::parameters() const {
  return {params_[0], params_[1], params_[2], params_[3]};
}

void DoubleSeasonal::WarmStart(const std::vector<double>& parameters) {
  if (parameters.size() != 4) return;
  for (double p : parameters) {
    if (!std::isfinite(p)) return;
  }
  std::copy(parameters.begin(), parameters.end(), params_);
  warm_ = true;
}

DoubleSeasonal::State DoubleSeasonal::Initial(absl::Span<const double> y) const {
  State s;
  const int n = 2 * kWeek;
  double level = 0;
  for (int t = 0; t < n; ++t) level += y[t] / n;
  s.level = level;
  s.day.assign(kDay, 0);
  s.week.assign(kWeek, 0);
  for (int t = 0; t < n; ++t) s.day[t % kDay] += (y[t] - level) / (n / kDay);
  for (int t = 0; t < n; ++t) s.week[t % kWeek] += (y[t] - level - s.day[t % kDay]) / 2;
  return s;
}

double DoubleSeasonal::Run(absl::Span<const double> y, const double* p, State* end) const {
  const double alpha = p[0], delta = p[1], omega = p[2], phi = p[3];
  State s = Initial(y);
  double sse = 0;
  for (size_t t = 0; t < y.size(); ++t) {
    double& d = s.day[t % kDay];
    double& w = s.week[t % kWeek];
    const double structural = s.level + d + w;
    const double forecast = structural + phi * s.error;
    const double error = y[t] - forecast;
    sse += error * error;
    const double level = alpha * (y[t] - d - w) + (1 - alpha) * s.level;
    const double new_d = delta * (y[t] - level - w) + (1 - delta) * d;
    const double new_w = omega * (y[t] - level - d) + (1 - omega) * w;
    s.level = level;
    d = new_d;
    w = new_w;
    s.error = y[t] - structural;
    if (!std::isfinite(sse)) return INFINITY;
  }
  s.next = static_cast<int>(y.size());
  if (end != nullptr) *end = std::move(s);
  return sse;
}

absl::Status DoubleSeasonal::Fit(absl::Span<const double> y) {
  if (static_cast<int>(y.size()) < min_history()) {
    return absl::FailedPreconditionError(
        absl::StrCat(name(), " needs ", min_history(), " hours of history, got ", y.size()));
  }
  if (absl::Status s = CheckFinite(y); !s.ok()) return s;
  Eigen::VectorXd lower(4), upper(4), start(4);
  lower << 0, 0, 0, 0;
  upper << max_alpha_, 1, 1, 0.99;
  start << params_[0], params_[1], params_[2], params_[3];
  if (!warm_) start << std::min(0.1, max_alpha_ / 2), 0.1, 0.1, 0.5;
  start = start.cwiseMin(upper);
  NelderMeadOptions nm;
  nm.max_evaluations = max_evaluations_;
  const NelderMeadResult best = MinimizeInBox(
      [&](const Eigen::VectorXd& p) { return Run(y, p.data(), nullptr); }, start, lower, upper, nm);
  if (!std::isfinite(best.value)) {
    return absl::InternalError(absl::StrCat(name(), ": the fit diverged"));
  }
  for (int i = 0; i < 4; ++i) params_[i] = best.x[i];
  sse_ = Run(y, params_, &state_);
  warm_ = true;
  return absl::OkStatus();
}

std::vector<double> DoubleSeasonal::Forecast(int horizon) const {
  std::vector<double> out(horizon);
  double ar = 1;
  for (int h = 1; h <= horizon; ++h) {
    ar *= params_[3];
    const int t = state_.next + h - 1;
    out[h - 1] = state_.level + state_.day[t % kDay] + state_.week[t % kWeek] + ar * state_.error;
  }
  return out;
}

}  // namespace shadowplane::forecast
