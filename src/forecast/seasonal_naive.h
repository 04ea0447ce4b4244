// Seasonal naive: the next hours repeat the last season (24: yesterday; 168: last week). The
// fallback when a fit fails, and the baseline every model must beat.
#ifndef SHADOWPLANE_FORECAST_SEASONAL_NAIVE_H_
#define SHADOWPLANE_FORECAST_SEASONAL_NAIVE_H_

#include "forecast/forecast_model.h"

namespace shadowplane::forecast {

class SeasonalNaive final : public ForecastModel {
 public:
  explicit SeasonalNaive(int period) : period_(period) {}

  std::string name() const override;
  int min_history() const override { return period_; }
  absl::Status Fit(absl::Span<const double> history) override;
  std::vector<double> Forecast(int horizon) const override;
  void Observe(double value) override;
  std::vector<double> parameters() const override { return {}; }
  absl::Status Update(absl::Span<const double> history) override { return Fit(history); }
  void WarmStart(const std::string&, const std::vector<double>&) override {}

 private:
  const int period_;
  std::vector<double> last_season_;  // a ring: the oldest hour at `start_`
  int start_ = 0;
};

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_SEASONAL_NAIVE_H_
