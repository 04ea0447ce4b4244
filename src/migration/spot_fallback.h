// Spot interruptions: the provider warns that spot capacity goes away at a deadline (real time,
// typically two minutes ahead), and every primary and shadow on it must be off it by then.
//
// Report() records the warning, marks spot at the location gone (a price row with availability
// 0: the planner's way back waits until a later report offers it again for --spot_return_after)
// and one pending fallback per instance it names, then reconciles at once. ReconcileOnce() (the
// server's loop, every second, on one replica under an advisory lock) drives each fallback:
//   primary: an urgent planned migration (no TTL wait, one pre-copy round, no queue) to on-demand
//            at the same location; without on-demand room there, to the shadow's location (it
//            holds the data), else to the cheapest allowed location with room. A migration of the
//            resource already under way is cancelled first when it is before its traffic switch,
//            or else finishes first (the fallback then applies to wherever the primary is). When
//            the deadline passes before the fallback switched traffic, the fallback is cancelled
//            and the instance treated as lost: an emergency promotion of the shadow (forced), its
//            loss window recorded. A failed or rolled-back fallback is tried again, up to
//            `max_attempts`; past the deadline, a promotion that still cannot start (no shadow)
//            ends the fallback as `failed`.
//   shadow:  rebuilt at another diverse location (reservation/shadow_replacement.cc).
// Every fallback is a planner decision (outcome "fallback") with its explanation. Fallbacks
// ignore the planner's dwell, caps and cooldowns, but count in them (they are migrations of the
// resource), so the planned way back to spot waits its turn.
//
// Metrics: shadowplane_spot_interruptions_total, shadowplane_spot_fallbacks_total{outcome},
// shadowplane_spot_fallback_seconds (from the warning to traffic on the new capacity, real
// seconds). Thread-safe: calls are serialized.
#ifndef SHADOWPLANE_MIGRATION_SPOT_FALLBACK_H_
#define SHADOWPLANE_MIGRATION_SPOT_FALLBACK_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "geo/distance.h"
#include "migration/migration_manager.h"
#include "planner/placement.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "store/decision_repository.h"
#include "store/location_repository.h"
#include "store/migration_repository.h"
#include "store/price_repository.h"
#include "store/reservation_repository.h"
#include "store/spot_repository.h"

namespace shadowplane::migration {

struct InterruptionNotice {
  std::string location;                   // every spot instance there ...
  std::vector<std::string> instance_ids;  // ... or only these
  std::optional<absl::Time> deadline;     // real time; absent: now + the default warning
  std::string reason;
};

struct SpotFallbackOptions {
  absl::Duration default_warning = absl::Minutes(2);
  int max_attempts = 3;
  // Domain seconds per real second (the scaled clock's scale), for the metric's real seconds.
  double clock_scale = 1;
  planner::CostModel cost;
  geo::RttModel rtt;
};

class SpotFallback {
 public:
  struct Sources {
    store::SpotRepository* spot = nullptr;
    store::ReservationRepository* reservations = nullptr;
    store::LocationRepository* locations = nullptr;
    store::PriceRepository* prices = nullptr;
    store::MigrationRepository* migrations = nullptr;
    store::DecisionRepository* decisions = nullptr;  // optional: fallbacks then go unrecorded
    MigrationManager* manager = nullptr;
    // Rebuilds the reservation's shadow elsewhere (ReservationManager::ReplaceShadowNow).
    std::function<absl::Status(const std::string& reservation_id)> replace_shadow;
    const Clock* clock = nullptr;           // domain time
    const Clock* deadline_clock = nullptr;  // real time, as the provider's deadline
    prometheus::Registry* metrics = nullptr;
  };

  SpotFallback(Sources sources, SpotFallbackOptions options);

  // INVALID_ARGUMENT naming the field (neither location nor instance_ids, a bad name, over 1000
  // ids or reason bytes, ids at more than one location or not at `location`); NOT_FOUND for an
  // unknown location or instance. The interruption as recorded, after a first pass.
  absl::StatusOr<store::SpotInterruptionRecord> Report(const InterruptionNotice& notice);

  // One pass over every pending fallback; the first error after trying them all.
  absl::Status ReconcileOnce();

 private:
  absl::Status ReconcileLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Drive(store::SpotFallbackRecord f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status DrivePrimary(store::SpotFallbackRecord& f, const store::ReservationRecord& r)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts the fallback migration (or the promotion, once the deadline passed).
  absl::Status StartPrimaryFallback(store::SpotFallbackRecord& f, const store::ReservationRecord& r,
                                    bool expired) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Finish(store::SpotFallbackRecord& f, const std::string& outcome,
                      const std::string& detail) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Marks spot at `location` gone from `at` on: a price row with no spot.
  absl::Status RecordSpotGone(const std::string& location, absl::Time at);
  void RecordDecision(const store::ReservationRecord& r, const std::string& to_location,
                      const std::string& to_type, const std::string& reason);

  const Sources sources_;
  const SpotFallbackOptions options_;
  absl::Mutex mu_;
  prometheus::Counter* interruptions_ = nullptr;
  prometheus::Family<prometheus::Counter>* fallbacks_ = nullptr;
  prometheus::Histogram* fallback_seconds_ = nullptr;
};

}  // namespace shadowplane::migration

#endif  // SHADOWPLANE_MIGRATION_SPOT_FALLBACK_H_
