// Seasonal mean: the next hours are the mean of the same hour over the last `seasons` seasons (of
// `period` hours). Between seasonal naive (one season: follows change at once, carries its noise)
// and a smoothing model; cheap enough to be one more candidate in every combination.
#ifndef SHADOWPLANE_FORECAST_SEASONAL_MEAN_H_
#define SHADOWPLANE_FORECAST_SEASONAL_MEAN_H_

#include <vector>

#include "forecast/forecast_model.h"

namespace shadowplane::forecast {

class SeasonalMean final : public ForecastModel {
 public:
  SeasonalMean(int period, int seasons) : period_(period), seasons_(seasons) {}

  std::string name() const override;
  int min_history() const override { return period_ * seasons_; }
  absl::Status Fit(absl::Span<const double> history) override;
  absl::Status Update(absl::Span<const double> history) override { return Fit(history); }
  std::vector<double> Forecast(int horizon) const override;
  void Observe(double value) override;
  std::vector<double> parameters() const override { return {}; }
  void WarmStart(const std::string&, const std::vector<double>&) override {}

 private:
  const int period_, seasons_;
  std::vector<double> window_;  // the last period * seasons hours, a ring: the oldest at start_
  std::vector<double> sums_;    // by phase relative to start_ % period
  int start_ = 0;
};

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_SEASONAL_MEAN_H_
