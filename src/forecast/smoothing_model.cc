#include "forecast/smoothing_model.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "forecast/nelder_mead.h"

namespace shadowplane::forecast {

void SmoothingModel::WarmStart(const std::string& model, const std::vector<double>& parameters) {
  if (model != name()) return;
  const Box box = Bounds();
  if (static_cast<int>(parameters.size()) != box.cold_start.size()) return;
  for (int i = 0; i < box.cold_start.size(); ++i) {
    const double p = parameters[i];
    if (!std::isfinite(p) || p < box.lower[i] || p > box.upper[i]) return;
  }
  params_ = parameters;
  warm_ = true;
}

absl::Status SmoothingModel::CheckAll(absl::Span<const double> y) const {
  if (static_cast<int>(y.size()) < min_history()) {
    return absl::FailedPreconditionError(
        absl::StrCat(name(), " needs ", min_history(), " hours of history, got ", y.size()));
  }
  if (absl::Status s = CheckFinite(y); !s.ok()) return s;
  return CheckHistory(y);
}

absl::Status SmoothingModel::Update(absl::Span<const double> y) {
  if (!warm_) return Fit(y);
  if (absl::Status s = CheckAll(y); !s.ok()) return s;
  Prepare(y);
  const double sse = Run(y, params_.data(), true);
  if (!std::isfinite(sse)) {
    return absl::InternalError(absl::StrCat(name(), ": the update diverged"));
  }
  sse_ = sse;
  return absl::OkStatus();
}

absl::Status SmoothingModel::Fit(absl::Span<const double> y) {
  if (absl::Status s = CheckAll(y); !s.ok()) return s;
  Prepare(y);
  const Box box = Bounds();
  Eigen::VectorXd start = box.cold_start;
  if (warm_) start = Eigen::Map<const Eigen::VectorXd>(params_.data(), params_.size());
  NelderMeadOptions options;
  options.max_evaluations = max_evaluations_;
  if (warm_) {
    // A previous fit's parameters are near the optimum of a history that grew by a few hours:
    // search close to them, and stop sooner.
    options.initial_step = 0.03;
    options.max_evaluations = max_evaluations_ / 2;
  }
  const NelderMeadResult best =
      MinimizeInBox([&](const Eigen::VectorXd& p) { return Run(y, p.data(), false); }, start,
                    box.lower, box.upper, options);
  if (!std::isfinite(best.value)) {
    return absl::InternalError(absl::StrCat(name(), ": the fit diverged"));
  }
  params_.assign(best.x.data(), best.x.data() + best.x.size());
  sse_ = Run(y, params_.data(), true);
  warm_ = true;
  return absl::OkStatus();
}

}  // namespace shadowplane::forecast
