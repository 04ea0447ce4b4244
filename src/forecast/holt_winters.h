// Holt-Winters exponential smoothing with one season: level, optional (damped) trend, additive or
// multiplicative seasonality of `period` hours. Parameters (alpha, beta, gamma, phi) are fitted by
// minimising the in-sample sum of squared one-step errors with box-constrained Nelder-Mead.
//
// The trend's smoothing is bounded (beta <= max_beta, phi <= max_phi): an unbounded trend fitted to
// a noisy hour runs away over a 48-hour horizon, which is how statsmodels' damped-trend model ends
// up worse than naive on M4 Hourly. Initial states come from the first seasons (up to seven: the
// level their mean, the trend the change of their means per hour, each hour's seasonal term its
// mean deviation from its season's mean).
#ifndef SHADOWPLANE_FORECAST_HOLT_WINTERS_H_
#define SHADOWPLANE_FORECAST_HOLT_WINTERS_H_

#include "forecast/smoothing_model.h"

namespace shadowplane::forecast {

enum class Seasonality { kAdditive, kMultiplicative };

struct HoltWintersOptions {
  int period = 24;
  Seasonality seasonality = Seasonality::kAdditive;
  bool trend = true;
  bool damped = true;
  double max_alpha = 1.0;  // the level's smoothing
  double max_beta = 0.05;
  double min_phi = 0.8;
  double max_phi = 0.98;
  int max_evaluations = 600;
};

class HoltWinters final : public SmoothingModel {
 public:
  explicit HoltWinters(HoltWintersOptions options)
      : SmoothingModel(options.max_evaluations), options_(options) {}

  std::string name() const override;
  int min_history() const override { return 2 * options_.period; }
  // Parameters: alpha, beta, gamma, phi.
  std::vector<double> Forecast(int horizon) const override;

 private:
  struct State {
    double level = 0;
    double trend = 0;
    std::vector<double> season;  // season[i]: the index of hour t is t % period
    int next = 0;                // hours seen (the next hour's index)
  };
  Box Bounds() const override;
  absl::Status CheckHistory(absl::Span<const double> y) const override;
  void Prepare(absl::Span<const double> y) override { initial_ = Initial(y); }
  double Run(absl::Span<const double> y, const double* p, bool keep) override;
  void Advance(double value) override { (void)Step(state_, value, fitted().data()); }
  // One hour: updates `s` with `y`; returns the one-step error (+infinity when a multiplicative
  // level stops being positive).
  double Step(State& s, double y, const double* p) const;
  State Initial(absl::Span<const double> y) const;

  const HoltWintersOptions options_;
  State initial_;  // from the history being fitted
  State state_;    // after the last hour of the fitted history
};

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_HOLT_WINTERS_H_
