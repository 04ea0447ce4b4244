#include "common/clock.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace shadowplane {

absl::Time RealClock::Now() const { return absl::Now(); }

Clock* RealClock::Get() {
  static RealClock* clock = new RealClock();
  return clock;
}

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

void FakeClock::Set(absl::Time t) {
  absl::MutexLock lock(&mu_);
  now_ = t;
}

void FakeClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  now_ += d;
}

absl::Time ScaledClock::Now() const { return FromBase(base_->Now()); }

absl::Time ScaledClock::FromBase(absl::Time base) const {
  // absl::Duration arithmetic keeps sub-nanosecond precision; doubles of Unix seconds would make
  // two processes disagree by microseconds, which a large scale turns into seconds.
  return epoch_ + (base - epoch_) * scale_;
}

absl::StatusOr<std::unique_ptr<ScaledClock>> MakeDomainClock(double scale,
                                                             const std::string& epoch_text) {
  if (!std::isfinite(scale) || scale <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("time_scale must be a positive finite number, got ", scale));
  }
  if (scale == 1.0 && epoch_text.empty()) {
    return std::make_unique<ScaledClock>(RealClock::Get(), absl::UnixEpoch(), 1.0);
  }
  if (epoch_text.empty()) {
    return absl::InvalidArgumentError(
        "time_epoch is required when time_scale is not 1: every process must share one epoch "
        "(RFC 3339, e.g. 2026-01-05T00:00:00Z) so that they agree on domain time");
  }
  absl::Time epoch;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, epoch_text, &epoch, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("time_epoch '", epoch_text, "' is not an RFC 3339 time: ", error));
  }
  return std::make_unique<ScaledClock>(RealClock::Get(), epoch, scale);
}

}  // namespace shadowplane
