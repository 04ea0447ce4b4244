// Exponential backoff with jitter, for retrying on real time (never domain time).
// Not thread-safe: one instance per retry loop.
#ifndef SHADOWPLANE_COMMON_BACKOFF_H_
#define SHADOWPLANE_COMMON_BACKOFF_H_

#include <algorithm>
#include <random>

#include "absl/time/time.h"

namespace shadowplane {

class Backoff {
 public:
  Backoff(absl::Duration initial, absl::Duration max, double multiplier = 2.0)
      : initial_(initial), max_(max), multiplier_(multiplier), current_(initial) {}

  // The next delay: uniform in [current/2, current], then current grows towards max.
  // Half-jitter rather than full jitter keeps a floor, so a retry never spins.
  absl::Duration Next() {
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    const absl::Duration delay = current_ * jitter(rng_);
    current_ = std::min(max_, current_ * multiplier_);
    return delay;
  }
  void Reset() { current_ = initial_; }

 private:
  absl::Duration initial_;
  absl::Duration max_;
  double multiplier_;
  absl::Duration current_;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_BACKOFF_H_
