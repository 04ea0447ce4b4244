// Double seasonal Holt-Winters (Taylor 2003, "Short-term electricity demand forecasting using
// double seasonal exponential smoothing"): a level, a daily season (24 hours) and a weekly season
// (168 hours) on top of it, so that Mondays can differ from Sundays, with Taylor's first-order
// autoregressive adjustment of the one-step error. Additive, no trend (hourly demand rarely has one
// over a 48-hour horizon that the level does not follow). Parameters alpha, delta (daily), omega
// (weekly), phi (AR(1) of the errors) are fitted by minimising the in-sample sum of squared
// one-step errors (box-constrained Nelder-Mead). Initial states from the first weeks (up to eight:
// with slow smoothing the initial seasons persist, and one or two weeks of them are noisy).
#ifndef SHADOWPLANE_FORECAST_DOUBLE_SEASONAL_H_
#define SHADOWPLANE_FORECAST_DOUBLE_SEASONAL_H_

#include "forecast/smoothing_model.h"

namespace shadowplane::forecast {

class DoubleSeasonal final : public SmoothingModel {
 public:
  static constexpr int kDay = 24;
  static constexpr int kWeek = 168;

  // `max_alpha` bounds the level's smoothing: with the AR(1) term following short deviations, a
  // slow level forecasts hourly demand better 48 hours out (see bench/README.md).
  explicit DoubleSeasonal(double max_alpha = 1.0, int max_evaluations = 600)
      : SmoothingModel(max_evaluations), max_alpha_(max_alpha) {}

  std::string name() const override { return "double_seasonal_24_168"; }
  int min_history() const override { return 2 * kWeek; }
  // Parameters: alpha, delta, omega, phi.
  std::vector<double> Forecast(int horizon) const override;

 private:
  struct State {
    double level = 0;
    double error = 0;  // the last one-step error, for the AR(1) adjustment
    std::vector<double> day, week;
    int next = 0;
  };
  Box Bounds() const override;
  void Prepare(absl::Span<const double> y) override { initial_ = Initial(y); }
  double Run(absl::Span<const double> y, const double* p, bool keep) override;
  void Advance(double value) override { (void)Step(state_, value, fitted().data()); }
  // One hour: updates `s` with `y`; returns the one-step error.
  double Step(State& s, double y, const double* p) const;
  State Initial(absl::Span<const double> y) const;

  const double max_alpha_;
  State initial_;  // from the history being fitted
  State state_;    // after the last hour of the fitted history
};

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_DOUBLE_SEASONAL_H_
