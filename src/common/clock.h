// Domain time. Every timestamp, forecast hour, interval and dwell time in shadowplane comes from a
// `Clock`, never from the system clock directly and never from SQL now(), so that tests can fake it
// and demos can run it faster than real time. Deadlines, backoff and lease expiry stay on real
// time.
//
// All implementations are thread-safe.
#ifndef SHADOWPLANE_COMMON_CLOCK_H_
#define SHADOWPLANE_COMMON_CLOCK_H_

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace shadowplane {

// Shaped like Abseil's later `clock_interface.h`.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The system's wall clock.
class RealClock final : public Clock {
 public:
  absl::Time Now() const override;
  // A process-wide instance.
  static Clock* Get();
};

// A clock that moves only when told to. For tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override;
  void Set(absl::Time t);
  void Advance(absl::Duration d);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

// Runs `scale` times faster than `base` around a fixed `epoch`:
//   domain = epoch + (base - epoch) * scale.
// Every process given the same epoch and scale computes the same domain time from the same real
// time, so replicas, agents and load generators agree without talking to each other.
class ScaledClock final : public Clock {
 public:
  ScaledClock(const Clock* base, absl::Time epoch, double scale)
      : base_(base), epoch_(epoch), scale_(scale) {}
  absl::Time Now() const override;
  // The domain time of a moment of the base clock (a timestamp taken earlier, say).
  absl::Time FromBase(absl::Time base) const;
  absl::Time epoch() const { return epoch_; }
  double scale() const { return scale_; }

 private:
  const Clock* base_;
  absl::Time epoch_;
  double scale_;
};

// Builds the process clock from --time_scale and --time_epoch. scale == 1 gives the real clock
// (the epoch is then irrelevant); any other scale needs an epoch shared by every process, so a
// missing epoch is an error rather than a silent per-process default. `epoch_text` is RFC 3339.
absl::StatusOr<std::unique_ptr<ScaledClock>> MakeDomainClock(double scale,
                                                             const std::string& epoch_text);

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_CLOCK_H_
