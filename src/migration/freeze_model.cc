#include "migration/freeze_model.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

namespace shadowplane::migration {

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

}  // namespace

double FreezeModel::Expected(int64_t dirty_bytes, int64_t dirty_files) const {
  return base_seconds + seconds_per_mib * static_cast<double>(dirty_bytes) / kMiB +
         seconds_per_file * static_cast<double>(dirty_files);
}

double FreezeModel::High(int64_t dirty_bytes, int64_t dirty_files) const {
  const double expected = Expected(dirty_bytes, dirty_files);
  return std::max(expected + residual_p95_seconds, 1.5 * expected);
}

FreezeModel DefaultFreezeModel() {
  FreezeModel m;
  m.base_seconds = 0.5;
  m.seconds_per_mib = 0.005;
  m.seconds_per_file = 0.005;
  return m;
}

FreezeModel FitFreezeModel(const std::vector<CutoverSample>& samples) {
  const int n = static_cast<int>(samples.size());
  if (n < kMinSamples) return DefaultFreezeModel();
  Eigen::MatrixXd x(n, 3);
  Eigen::VectorXd y(n);
  for (int i = 0; i < n; ++i) {
    x(i, 0) = 1;
    x(i, 1) = static_cast<double>(samples[i].dirty_bytes) / kMiB;
    x(i, 2) = static_cast<double>(samples[i].dirty_files);
    y(i) = samples[i].freeze_seconds;
  }
  // Least squares over the columns still free; a coefficient that comes out negative is pinned
  // at zero and the rest refitted (three columns: at most three rounds).
  std::vector<bool> free = {true, true, true};
  Eigen::Vector3d beta = Eigen::Vector3d::Zero();
  for (int round = 0; round < 3; ++round) {
    std::vector<int> cols;
    for (int c = 0; c < 3; ++c) {
      if (free[c]) cols.push_back(c);
    }
    if (cols.empty()) break;
    Eigen::MatrixXd sub(n, static_cast<int>(cols.size()));
    for (size_t j = 0; j < cols.size(); ++j) sub.col(static_cast<int>(j)) = x.col(cols[j]);
    Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(sub);
    if (qr.rank() < static_cast<int>(cols.size())) {
      // The samples do not tell the columns apart (every cutover the same size): keep the
      // default rather than a fit that means nothing.
      if (cols.size() == 3) return DefaultFreezeModel();
    }
    const Eigen::VectorXd b = qr.solve(y);
    beta.setZero();
    bool negative = false;
    for (size_t j = 0; j < cols.size(); ++j) {
      beta(cols[j]) = b(static_cast<int>(j));
      if (b(static_cast<int>(j)) < 0) {
        free[cols[j]] = false;
        negative = true;
      }
    }
    if (!negative) break;
    for (int c = 0; c < 3; ++c) beta(c) = std::max(0.0, beta(c));
  }
  if (!beta.allFinite()) return DefaultFreezeModel();
  FreezeModel m;
  m.base_seconds = beta(0);
  m.seconds_per_mib = beta(1);
  m.seconds_per_file = beta(2);
  m.samples = n;
  std::vector<double> residuals(n);
  for (int i = 0; i < n; ++i) {
    residuals[i] = y(i) - m.Expected(samples[i].dirty_bytes, samples[i].dirty_files);
  }
  std::sort(residuals.begin(), residuals.end());
  const int at = std::min(n - 1, static_cast<int>(std::ceil(0.95 * n)) - 1);
  m.residual_p95_seconds = std::max(0.0, residuals[std::max(0, at)]);
  return m;
}

}  // namespace shadowplane::migration
