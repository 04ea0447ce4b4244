#include "planner/calibration.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace shadowplane::planner {

namespace {

int BucketOf(double confidence, int buckets) {
  if (!(confidence > 0)) return 0;  // NaN and below 0 included
  return std::min(buckets - 1, static_cast<int>(std::floor(confidence * buckets + 1e-9)));
}

int BucketCount(double width) { return std::max(1, static_cast<int>(std::lround(1.0 / width))); }

}  // namespace

std::vector<CalibrationBucket> Calibrate(const std::vector<JudgedMove>& moves, double width) {
  const int n = BucketCount(width);
  std::vector<CalibrationBucket> buckets(n);
  for (int i = 0; i < n; ++i) {
    buckets[i].low = static_cast<double>(i) / n;
    buckets[i].high = static_cast<double>(i + 1) / n;
  }
  for (const JudgedMove& m : moves) {
    CalibrationBucket& b = buckets[BucketOf(m.confidence, n)];
    ++b.moves;
    if (m.paid_off) ++b.paid_off;
    b.mean_confidence += m.confidence;
    b.mean_predicted_saving += m.predicted_saving;
    b.mean_realized_saving += m.realized_saving;
  }
  for (CalibrationBucket& b : buckets) {
    if (b.moves == 0) continue;
    b.mean_confidence /= b.moves;
    b.mean_predicted_saving /= b.moves;
    b.mean_realized_saving /= b.moves;
  }
  return buckets;
}

std::string BucketLabel(double confidence, double width) {
  const int n = BucketCount(width);
  return absl::StrFormat("%.1f", static_cast<double>(BucketOf(confidence, n)) / n);
}

}  // namespace shadowplane::planner
