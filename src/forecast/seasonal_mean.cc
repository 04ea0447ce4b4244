#include "forecast/seasonal_mean.h"

#include "absl/strings/str_cat.h"

namespace shadowplane::forecast {

std::string SeasonalMean::name() const {
  return absl::StrCat("seasonal_mean_", period_, "x", seasons_);
}

absl::Status SeasonalMean::Fit(absl::Span<const double> history) {
  const int n = period_ * seasons_;
  if (static_cast<int>(history.size()) < n) {
    return absl::FailedPreconditionError(
        absl::StrCat(name(), " needs ", n, " hours of history, got ", history.size()));
  }
  if (absl::Status s = CheckFinite(history); !s.ok()) return s;
  window_.assign(history.end() - n, history.end());
  start_ = 0;
  // sums_[p]: the sum over seasons of the hour at phase p, where phase 0 is the window's oldest.
  sums_.assign(period_, 0.0);
  for (int i = 0; i < n; ++i) sums_[i % period_] += window_[i];
  return absl::OkStatus();
}

std::vector<double> SeasonalMean::Forecast(int horizon) const {
  std::vector<double> out(horizon);
  // The next hour has the phase of the window's oldest hour.
  for (int h = 0; h < horizon; ++h) out[h] = sums_[(start_ + h) % period_] / seasons_;
  return out;
}

void SeasonalMean::Observe(double value) {
  const int n = period_ * seasons_;
  const int phase = start_ % period_;
  sums_[phase] += value - window_[start_];
  window_[start_] = value;
  start_ = (start_ + 1) % n;
}

}  // namespace shadowplane::forecast
