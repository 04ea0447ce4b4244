// A token bucket: `rate` tokens per second, holding at most `burst`. Thread-safe.
#ifndef SHADOWPLANE_INSTANCE_TOKEN_BUCKET_H_
#define SHADOWPLANE_INSTANCE_TOKEN_BUCKET_H_

#include <algorithm>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace shadowplane::instance {

class TokenBucket {
 public:
  TokenBucket(double rate, double burst) { SetRate(rate, burst); }

  // Changes the rate; tokens already held are kept (up to the new burst).
  void SetRate(double rate, double burst) {
    absl::MutexLock lock(&mu_);
    Refill(absl::Now());
    rate_ = rate;
    burst_ = burst;
    tokens_ = std::min(tokens_ < 0 ? burst : tokens_, burst_);
  }

  // Takes a token if one is there.
  bool TryTake(absl::Time now = absl::Now()) {
    absl::MutexLock lock(&mu_);
    Refill(now);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  void Refill(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (last_ != absl::InfinitePast()) {
      tokens_ = std::min(burst_, tokens_ + rate_ * absl::ToDoubleSeconds(now - last_));
    }
    last_ = now;
  }

  absl::Mutex mu_;
  double rate_ ABSL_GUARDED_BY(mu_) = 0;
  double burst_ ABSL_GUARDED_BY(mu_) = 0;
  double tokens_ ABSL_GUARDED_BY(mu_) = -1;  // -1: start full
  absl::Time last_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace shadowplane::instance

#endif  // SHADOWPLANE_INSTANCE_TOKEN_BUCKET_H_
