#include "forecast/smoothing_model.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "forecast/nelder_mead.h"

namespace shadowplane::forecast {

void SmoothingModel::WarmStart(const std::vector<double>& parameters) {
  const Box box = Bounds();
  if (static_cast<int>(parameters.size()) != box.cold_start.size()) return;
  for (double p : parameters) {
    if (!std::isfinite(p)) return;
  }
  params_ = parameters;
  warm_ = true;
}

absl::Status SmoothingModel::Fit(absl::Span<const double> y) {
  if (static_cast<int>(y.size()) < min_history()) {
    return absl::FailedPreconditionError(
        absl::StrCat(name(), " needs ", min_history(), " hours of history, got ", y.size()));
  }
  if (absl::Status s = CheckFinite(y); !s.ok()) return s;
  if (absl::Status s = CheckHistory(y); !s.ok()) return s;
  const Box box = Bounds();
  Eigen::VectorXd start = box.cold_start;
  if (warm_) start = Eigen::Map<const Eigen::VectorXd>(params_.data(), params_.size());
  NelderMeadOptions options;
  options.max_evaluations = max_evaluations_;
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
