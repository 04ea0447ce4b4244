// Simple exponential smoothing: a level and nothing else, forecast flat. The fallback for a series
// too short to show a season (part of a day), and a floor any seasonal model must beat.
#ifndef SHADOWPLANE_FORECAST_LEVEL_ONLY_H_
#define SHADOWPLANE_FORECAST_LEVEL_ONLY_H_

#include "forecast/smoothing_model.h"

namespace shadowplane::forecast {

class LevelOnly final : public SmoothingModel {
 public:
  LevelOnly() : SmoothingModel(200) {}

  std::string name() const override { return "level_only"; }
  int min_history() const override { return 2; }
  // Parameters: alpha.
  std::vector<double> Forecast(int horizon) const override {
    return std::vector<double>(horizon, level_);
  }

 private:
  Box Bounds() const override {
    Box box{Eigen::VectorXd(1), Eigen::VectorXd(1), Eigen::VectorXd(1)};
    box.lower << 0;
    box.upper << 1;
    box.cold_start << 0.3;
    return box;
  }
  void Prepare(absl::Span<const double>) override {}
  void Advance(double value) override { level_ += fitted()[0] * (value - level_); }
  double Run(absl::Span<const double> y, const double* p, bool keep) override {
    double level = y[0], sse = 0;
    for (size_t t = 1; t < y.size(); ++t) {
      const double error = y[t] - level;
      sse += error * error;
      level += p[0] * error;
    }
    if (keep) level_ = level;
    return sse;
  }

  double level_ = 0;
};

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_LEVEL_ONLY_H_
