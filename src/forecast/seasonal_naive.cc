#include "forecast/seasonal_naive.h"

#include "absl/strings/str_cat.h"

namespace shadowplane::forecast {

std::string SeasonalNaive::name() const { return absl::StrCat("seasonal_naive_", period_); }

absl::Status SeasonalNaive::Fit(absl::Span<const double> history) {
  if (static_cast<int>(history.size()) < period_) {
    return absl::FailedPreconditionError(
        absl::StrCat(name(), " needs ", period_, " hours of history, got ", history.size()));
  }
  if (absl::Status s = CheckFinite(history); !s.ok()) return s;
  last_season_.assign(history.end() - period_, history.end());
  start_ = 0;
  return absl::OkStatus();
}

std::vector<double> SeasonalNaive::Forecast(int horizon) const {
  std::vector<double> out(horizon);
  for (int h = 0; h < horizon; ++h) out[h] = last_season_[(start_ + h) % period_];
  return out;
}

void SeasonalNaive::Observe(double value) {
  last_season_[start_] = value;  // the oldest hour is the one a season ago
  start_ = (start_ + 1) % period_;
}

}  // namespace shadowplane::forecast
