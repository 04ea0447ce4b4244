#include "forecast/nelder_mead.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace shadowplane::forecast {

NelderMeadResult MinimizeInBox(const std::function<double(const Eigen::VectorXd&)>& f,
                               const Eigen::VectorXd& start, const Eigen::VectorXd& lower,
                               const Eigen::VectorXd& upper, const NelderMeadOptions& options) {
  const int n = static_cast<int>(start.size());
  auto project = [&](Eigen::VectorXd x) { return x.cwiseMax(lower).cwiseMin(upper); };
  int evaluations = 0;
  auto eval = [&](const Eigen::VectorXd& x) {
    ++evaluations;
    const double v = f(x);
    return std::isnan(v) ? INFINITY : v;
  };
  // Simplex: the start and one step along each axis (inwards when at the upper bound).
  std::vector<Eigen::VectorXd> points(n + 1, project(start));
  for (int i = 0; i < n; ++i) {
    const double step = options.initial_step * (upper[i] - lower[i]);
    Eigen::VectorXd& p = points[i + 1];
    p[i] = p[i] + step <= upper[i] ? p[i] + step : p[i] - step;
    p = project(p);
  }
  std::vector<double> values(n + 1);
  for (int i = 0; i <= n; ++i) values[i] = eval(points[i]);
  std::vector<int> order(n + 1);
  while (evaluations < options.max_evaluations) {
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return values[a] < values[b]; });
    const int best = order[0], worst = order[n], second = order[n - 1];
    const double spread = std::abs(values[worst] - values[best]);
    if (std::isfinite(values[worst]) &&
        spread <= options.tolerance * (std::abs(values[best]) + options.tolerance)) {
      break;
    }
    Eigen::VectorXd centroid = Eigen::VectorXd::Zero(n);
    for (int i = 0; i < n; ++i) centroid += points[order[i]];
    centroid /= n;
    const Eigen::VectorXd reflected = project(centroid + (centroid - points[worst]));
    const double fr = eval(reflected);
    if (fr < values[best]) {
      const Eigen::VectorXd expanded = project(centroid + 2.0 * (centroid - points[worst]));
      const double fe = eval(expanded);
      if (fe < fr) {
        points[worst] = expanded;
        values[worst] = fe;
      } else {
        points[worst] = reflected;
        values[worst] = fr;
      }
      continue;
    }
    if (fr < values[second]) {
      points[worst] = reflected;
      values[worst] = fr;
      continue;
    }
    const bool outside = fr < values[worst];
    const Eigen::VectorXd contracted =
        project(outside ? centroid + 0.5 * (reflected - centroid)
                        : centroid + 0.5 * (points[worst] - centroid));
    const double fc = eval(contracted);
    if (fc < std::min(fr, values[worst])) {
      points[worst] = contracted;
      values[worst] = fc;
      continue;
    }
    // Shrink towards the best point.
    for (int i = 0; i <= n; ++i) {
      if (i == best) continue;
      points[i] = project(points[best] + 0.5 * (points[i] - points[best]));
      values[i] = eval(points[i]);
    }
  }
  const int best =
      static_cast<int>(std::min_element(values.begin(), values.end()) - values.begin());
  return {points[best], values[best], evaluations};
}

}  // namespace shadowplane::forecast
