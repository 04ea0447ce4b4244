#include "reservation/reservation_view.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace shadowplane::reservation {

ReservationView::ReservationView(ReservationViewOptions options, const Clock* clock,
                                 prometheus::Registry* registry)
    : options_(options), clock_(clock) {
  if (registry == nullptr) return;
  auto& reads = prometheus::BuildCounter()
                    .Name("shadowplane_reservation_view_reads_total")
                    .Help(
                        "GetReservation reads by how they were answered: hit (from memory), "
                        "miss (loaded and kept), bypass (loaded: the view is off or behind)")
                    .Register(*registry);
  hits_ = &reads.Add({{"result", "hit"}});
  misses_ = &reads.Add({{"result", "miss"}});
  bypasses_ = &reads.Add({{"result", "bypass"}});
  auto& invalidations = prometheus::BuildCounter()
                            .Name("shadowplane_reservation_view_invalidations_total")
                            .Help(
                                "Reservations dropped from the view, by cause (gap: all of "
                                "them, counted once)")
                            .Register(*registry);
  notified_ = &invalidations.Add({{"source", "notification"}});
  local_ = &invalidations.Add({{"source", "local"}});
  gaps_ = &invalidations.Add({{"source", "gap"}});
  entries_ = &prometheus::BuildGauge()
                  .Name("shadowplane_reservation_view_entries")
                  .Help("Reservations kept in memory")
                  .Register(*registry)
                  .Add({});
  lag_ = &prometheus::BuildGauge()
              .Name("shadowplane_reservation_view_lag_seconds")
              .Help(
                  "How far the view's change feed was behind at the last read (reads are "
                  "served from memory only within the staleness bound)")
              .Register(*registry)
              .Add({});
}

void ReservationView::Count(prometheus::Counter* counter) const {
  if (counter != nullptr) counter->Increment();
}

bool ReservationView::FreshLocked() {
  if (!enabled()) return false;
  const absl::Duration lag = clock_->Now() - watermark_;
  if (lag_ != nullptr && lag < absl::InfiniteDuration()) lag_->Set(absl::ToDoubleSeconds(lag));
  return lag <= options_.staleness_bound;
}

ReservationView::Record ReservationView::Lookup(const std::string& id) {
  absl::ReaderMutexLock lock(&mu_);
  if (!FreshLocked()) return nullptr;
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return nullptr;
  Count(hits_);
  return it->second;
}

absl::StatusOr<ReservationView::Record> ReservationView::Get(const std::string& id,
                                                             const Loader& load) {
  uint64_t started = 0;
  bool fresh = false;
  {
    absl::ReaderMutexLock lock(&mu_);
    fresh = FreshLocked();
    if (fresh) {
      if (auto it = by_id_.find(id); it != by_id_.end()) {
        Count(hits_);
        return it->second;
      }
    }
    started = sequence_;
  }
  Count(fresh ? misses_ : bypasses_);
  absl::StatusOr<store::ReservationRecord> loaded = load();
  if (!loaded.ok()) return loaded.status();
  auto record = std::make_shared<const store::ReservationRecord>(*std::move(loaded));
  if (!fresh) return record;
  absl::MutexLock lock(&mu_);
  if (record->id == id && UntouchedSinceLocked(started, *record)) {
    if (by_id_.size() >= options_.max_entries && !by_id_.contains(id)) {
      auto victim = by_id_.begin();
      by_resource_.erase(victim->second->resource_id);
      by_id_.erase(victim);
    }
    by_id_[id] = record;
    by_resource_[record->resource_id] = id;
    if (entries_ != nullptr) entries_->Set(static_cast<double>(by_id_.size()));
  }
  return record;
}

bool ReservationView::UntouchedSinceLocked(uint64_t since,
                                           const store::ReservationRecord& r) const {
  if (gap_sequence_ > since) return false;
  if (sequence_ == since) return true;
  // The invalidations after `since` must all be remembered, and none of them this one's.
  if (recent_.empty() || recent_.front().first > since + 1) return false;
  for (auto it = recent_.rbegin(); it != recent_.rend() && it->first > since; ++it) {
    if (it->second == r.id || it->second == r.resource_id) return false;
  }
  return true;
}

void ReservationView::InvalidateLocked(const std::string& key) {
  ++sequence_;
  recent_.emplace_back(sequence_, key);
  while (recent_.size() > options_.recent_invalidations) recent_.pop_front();
  if (auto it = by_id_.find(key); it != by_id_.end()) {
    by_resource_.erase(it->second->resource_id);
    by_id_.erase(it);
  } else if (auto r = by_resource_.find(key); r != by_resource_.end()) {
    by_id_.erase(r->second);
    by_resource_.erase(r);
  }
  if (entries_ != nullptr) entries_->Set(static_cast<double>(by_id_.size()));
}

void ReservationView::Invalidate(const std::string& id) {
  Count(local_);
  absl::MutexLock lock(&mu_);
  InvalidateLocked(id);
}

void ReservationView::OnNotification(absl::string_view resource_id) {
  Count(notified_);
  absl::MutexLock lock(&mu_);
  InvalidateLocked(std::string(resource_id));
}

void ReservationView::OnCaughtUp(absl::Time watermark) {
  absl::MutexLock lock(&mu_);
  watermark_ = std::max(watermark_, watermark);
}

void ReservationView::OnGap() {
  Count(gaps_);
  absl::MutexLock lock(&mu_);
  gap_sequence_ = ++sequence_;
  recent_.clear();
  by_id_.clear();
  by_resource_.clear();
  if (entries_ != nullptr) entries_->Set(0);
}

size_t ReservationView::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return by_id_.size();
}

}  // namespace shadowplane::reservation
