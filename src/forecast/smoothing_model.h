// The part the exponential smoothing models share: parameters fitted by minimising the in-sample
// sum of squared one-step errors inside a box (Nelder-Mead), warm starts from a previous fit, and
// the checks on the history. A model supplies its bounds, a cold starting point, and Run: its
// recursions over the history for given parameters.
#ifndef SHADOWPLANE_FORECAST_SMOOTHING_MODEL_H_
#define SHADOWPLANE_FORECAST_SMOOTHING_MODEL_H_

#include <Eigen/Core>
#include <cmath>
#include <vector>

#include "forecast/forecast_model.h"

namespace shadowplane::forecast {

class SmoothingModel : public ForecastModel {
 public:
  absl::Status Fit(absl::Span<const double> history) final;
  std::vector<double> parameters() const final { return params_; }
  absl::Status Update(absl::Span<const double> history) final;
  void WarmStart(const std::string& model, const std::vector<double>& parameters) final;
  void Observe(double value) final { Advance(value); }

  // The in-sample sum of squared one-step errors of the last fit.
  double sse() const { return sse_; }

 protected:
  explicit SmoothingModel(int max_evaluations) : max_evaluations_(max_evaluations) {}

  struct Box {
    Eigen::VectorXd lower, upper, cold_start;
  };
  virtual Box Bounds() const = 0;
  // Refusals beyond length and finiteness (FAILED_PRECONDITION, e.g. values that are not positive).
  virtual absl::Status CheckHistory(absl::Span<const double>) const { return absl::OkStatus(); }
  // Called once per Fit or Update before the runs over `y` (e.g. to compute initial states, which
  // do not depend on the parameters, once instead of at every step of the search).
  virtual void Prepare(absl::Span<const double> y) = 0;
  // Updates the kept state (after the last hour fitted) with one more observed hour, using the
  // fitted parameters.
  virtual void Advance(double value) = 0;
  // The sum of squared one-step errors over `y` with parameters `p` (+infinity when the recursion
  // breaks down); with `keep`, the final state is kept for Forecast.
  virtual double Run(absl::Span<const double> y, const double* p, bool keep) = 0;

  const std::vector<double>& fitted() const { return params_; }

  // What Run does for every model: `step(state, y)` (which returns the one-step error) over `y`
  // from `initial`, summing squared errors; +infinity once the sum stops being finite. With
  // `kept`, the final state is stored there.
  template <typename State, typename StepFn>
  static double SumSquaredErrors(const State& initial, absl::Span<const double> y, StepFn step,
                                 State* kept) {
    State s = initial;
    double sse = 0;
    for (double v : y) {
      const double error = step(s, v);
      sse += error * error;
      if (!std::isfinite(sse)) return INFINITY;
    }
    if (kept != nullptr) *kept = std::move(s);
    return sse;
  }

 private:
  absl::Status CheckAll(absl::Span<const double> history) const;

  const int max_evaluations_;
  std::vector<double> params_;
  bool warm_ = false;
  double sse_ = 0;
};

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_SMOOTHING_MODEL_H_
