// Nelder-Mead simplex minimisation inside a box: every point tried is projected onto the bounds,
// so a model's smoothing parameters never leave their admissible ranges. Derivative-free, which
// suits sums of squared one-step errors of recursive models (their gradients are awkward).
#ifndef SHADOWPLANE_FORECAST_NELDER_MEAD_H_
#define SHADOWPLANE_FORECAST_NELDER_MEAD_H_

#include <Eigen/Core>
#include <functional>

namespace shadowplane::forecast {

struct NelderMeadOptions {
  int max_evaluations = 600;
  // Stops when the simplex's values differ by less than this (relative to their size).
  double tolerance = 1e-9;
  // Initial simplex edge, as a fraction of each bound's width.
  double initial_step = 0.1;
};

struct NelderMeadResult {
  Eigen::VectorXd x;
  double value = 0;
  int evaluations = 0;
};

// Minimises `f` from `start` (projected into [lower, upper]). `f` may return +infinity for a point
// it rejects.
NelderMeadResult MinimizeInBox(const std::function<double(const Eigen::VectorXd&)>& f,
                               const Eigen::VectorXd& start, const Eigen::VectorXd& lower,
                               const Eigen::VectorXd& upper, const NelderMeadOptions& options = {});

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_NELDER_MEAD_H_
