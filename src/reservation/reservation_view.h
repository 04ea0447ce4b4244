// The in-memory read model behind GetReservation: reservations as the database last returned
// them, kept fresh by change notifications (store/notification_feed.h, fed by the triggers of
// migrations/0024_reservation_changes.sql), so that most reads cost no database round trip.
//
// Guarantees:
// - Read-your-writes on this replica: a write made through this process (the caller calls
//   Invalidate() after it commits, before it answers) is seen by every later read here.
// - Bounded staleness across replicas: an entry is served only while the feed has caught up to
//   within `staleness_bound` of now (its watermark: every change committed before it has been
//   applied). So a change committed anywhere, by any replica or background task, is seen by every
//   read that starts more than `staleness_bound` after its commit. When the feed falls behind or
//   its connection is down, reads go to the database (counted as bypass).
// - A load racing with an invalidation of the same reservation or resource is not kept (the
//   invalidations of the last moments are remembered by sequence number), nor one racing a gap.
//
// Only found reservations are kept (a caller cannot fill memory with unknown ids), at most
// `max_entries` of them (an arbitrary one goes to make room). Thread-safe.
//
// Metrics: shadowplane_reservation_view_reads_total{result="hit"|"miss"|"bypass"},
// shadowplane_reservation_view_invalidations_total{source="notification"|"local"|"gap"},
// shadowplane_reservation_view_entries, shadowplane_reservation_view_lag_seconds (now minus the
// watermark, at the last read).
#ifndef SHADOWPLANE_RESERVATION_RESERVATION_VIEW_H_
#define SHADOWPLANE_RESERVATION_RESERVATION_VIEW_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "store/notification_feed.h"
#include "store/reservation_repository.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
}  // namespace prometheus

namespace shadowplane::reservation {

struct ReservationViewOptions {
  // How far behind the database a read may be; zero turns the view off (every read loads).
  absl::Duration staleness_bound = absl::Seconds(1);
  size_t max_entries = 100000;
  // Invalidations remembered for loads in flight; a load that started before the oldest is
  // not kept.
  size_t recent_invalidations = 4096;
};

// The NotificationFeed channel the triggers notify.
inline constexpr char kReservationChangesChannel[] = "shadowplane_reservation_changes";

class ReservationView final : public store::NotificationSink {
 public:
  using Record = std::shared_ptr<const store::ReservationRecord>;
  using Loader = std::function<absl::StatusOr<store::ReservationRecord>()>;

  // `clock` is real time (the feed's watermark is stamped by the same clock); `registry` may be
  // null.
  ReservationView(ReservationViewOptions options, const Clock* clock,
                  prometheus::Registry* registry);

  // The reservation `id` when it is kept and the view is fresh; null otherwise. Never blocks on
  // I/O: fit for gRPC's own threads.
  Record Lookup(const std::string& id);
  // Lookup(), or else `load` (the database read), kept when nothing invalidated it meanwhile.
  absl::StatusOr<Record> Get(const std::string& id, const Loader& load);

  // After this process wrote reservation `id` (any of its rows), before it answers: drops it.
  void Invalidate(const std::string& id);

  // store::NotificationSink: a resource's id per change; the watermark; gaps.
  void OnNotification(absl::string_view resource_id) override;
  void OnCaughtUp(absl::Time watermark) override;
  void OnGap() override;

  bool enabled() const { return options_.staleness_bound > absl::ZeroDuration(); }
  size_t size() const;

 private:
  // Whether the watermark is recent enough to serve from memory (and records the lag).
  bool FreshLocked() ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Drops the reservation or resource `key` and remembers it for loads in flight.
  void InvalidateLocked(const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether a load that started at sequence `since` of the reservation may be kept.
  bool UntouchedSinceLocked(uint64_t since, const store::ReservationRecord& r) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void Count(prometheus::Counter* counter) const;

  const ReservationViewOptions options_;
  const Clock* const clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Record> by_id_ ABSL_GUARDED_BY(mu_);
  // resource id -> reservation id, for notifications, which name resources.
  absl::flat_hash_map<std::string, std::string> by_resource_ ABSL_GUARDED_BY(mu_);
  absl::Time watermark_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t sequence_ ABSL_GUARDED_BY(mu_) = 0;  // one step per invalidation or gap
  uint64_t gap_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  // (sequence, reservation or resource id) of the latest invalidations, oldest first.
  std::deque<std::pair<uint64_t, std::string>> recent_ ABSL_GUARDED_BY(mu_);

  prometheus::Counter* hits_ = nullptr;
  prometheus::Counter* misses_ = nullptr;
  prometheus::Counter* bypasses_ = nullptr;
  prometheus::Counter* notified_ = nullptr;
  prometheus::Counter* local_ = nullptr;
  prometheus::Counter* gaps_ = nullptr;
  prometheus::Gauge* entries_ = nullptr;
  prometheus::Gauge* lag_ = nullptr;
};

}  // namespace shadowplane::reservation

#endif  // SHADOWPLANE_RESERVATION_RESERVATION_VIEW_H_
