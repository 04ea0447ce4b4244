#include "ingest/affinity_tracker.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "ingest/hyperloglog.h"
#include "ingest/validated_batch.h"

namespace shadowplane::ingest {

namespace {
constexpr size_t kRowsPerStatement = 10'000;
}  // namespace

AffinityTracker::AffinityTracker(store::TelemetryRepository* repository, AffinityOptions options,
                                 prometheus::Registry* registry)
    : repository_(repository), options_(options) {
  if (registry == nullptr) return;
  auto& family = prometheus::BuildCounter()
                     .Name("shadowplane_client_affinity_updates_total")
                     .Help(
                         "Client affinity updates: written to the table; suppressed (same "
                         "instance, seen again within the resolution); dropped because flushes "
                         "could not keep up (database slow or unreachable)")
                     .Register(*registry);
  written_total_ = &family.Add({{"result", "written"}});
  dropped_ = &family.Add({{"result", "dropped"}});
  suppressed_ = &family.Add({{"result", "suppressed"}});
}

AffinityTracker::~AffinityTracker() { Stop(); }

void AffinityTracker::Start(absl::Duration interval, std::function<bool()> ready) {
  flusher_ = std::thread([this, interval, ready = std::move(ready)] {
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        auto woken = [this]()
                         ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_ || flush_wanted_; };
        mu_.AwaitWithTimeout(absl::Condition(&woken), interval);
        if (stopping_) return;
        flush_wanted_ = false;
      }
      if (!ready()) continue;
      if (absl::Status s = Flush(); !s.ok()) {
        LOG_EVENT(kWarning, "flushing client affinity failed").Field("error", s);
      }
    }
  });
}

void AffinityTracker::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (flusher_.joinable()) flusher_.join();
  if (absl::Status s = Flush(); !s.ok()) {
    LOG_EVENT(kWarning, "client affinity not flushed at shutdown").Field("error", s);
  }
}

void AffinityTracker::Note(const std::vector<const store::AccessRow*>& rows) {
  size_t dropped = 0;
  absl::MutexLock lock(&mu_);
  for (const store::AccessRow* r : rows) {
    std::string client = ClientKey(*r);
    const Key key = SketchHash(absl::StrCat(r->resource_id, " ", client));
    auto it = pending_.find(key);
    if (it == pending_.end()) {
      if (pending_.size() >= 2 * options_.max_pending) {
        ++dropped;  // flushes cannot keep up: keep memory bounded
        continue;
      }
      it = pending_.try_emplace(key).first;
    }
    store::AffinityRow& row = it->second;
    if (!row.resource_id.empty() && row.last_seen >= r->ts) continue;
    row.resource_id = r->resource_id;
    row.client_key = std::move(client);
    if (!r->instance_id.empty()) row.instance_id = r->instance_id;
    row.origin_region = r->origin_region;
    row.last_seen = r->ts;
  }
  if (pending_.size() >= options_.max_pending) flush_wanted_ = true;
  if (dropped > 0 && dropped_ != nullptr) dropped_->Increment(static_cast<double>(dropped));
}

absl::Status AffinityTracker::Flush() {
  absl::MutexLock flushing(&flush_mu_);
  const absl::Time started = absl::Now();
  std::vector<store::AffinityRow> rows;
  std::vector<Key> keys;
  size_t suppressed = 0;
  {
    absl::flat_hash_map<Key, store::AffinityRow> taken;
    absl::MutexLock lock(&mu_);
    taken.swap(pending_);
    rows.reserve(taken.size());
    keys.reserve(taken.size());
    for (auto& [key, row] : taken) {
      auto it = written_.find(key);
      if (it != written_.end() && it->second.instance_hash == SketchHash(row.instance_id) &&
          row.last_seen - it->second.last_seen < options_.resolution) {
        ++suppressed;  // the table is close enough already
        continue;
      }
      rows.push_back(std::move(row));
      keys.push_back(key);
    }
  }
  if (suppressed_ != nullptr) suppressed_->Increment(static_cast<double>(suppressed));
  absl::Status status;
  size_t done = 0;
  while (done < rows.size()) {
    const size_t n = std::min(kRowsPerStatement, rows.size() - done);
    status = repository_->UpsertAffinity(absl::MakeConstSpan(rows).subspan(done, n));
    if (!status.ok()) break;
    done += n;
  }
  if (written_total_ != nullptr) written_total_->Increment(static_cast<double>(done));
  LOG_EVENT(kDebug, "client affinity flushed")
      .Field("written", done)
      .Field("suppressed", suppressed)
      .Field("seconds", absl::Now() - started);
  absl::MutexLock lock(&mu_);
  if (written_.size() + done > options_.max_remembered) written_.clear();
  for (size_t i = 0; i < done; ++i) {
    Written& w = written_[keys[i]];
    if (w.last_seen <= rows[i].last_seen) w = {SketchHash(rows[i].instance_id), rows[i].last_seen};
  }
  if (done == rows.size()) return status;
  // Not written: back under any newer sighting, within the bound.
  size_t dropped = 0;
  for (size_t i = done; i < rows.size(); ++i) {
    if (pending_.size() >= 2 * options_.max_pending) {
      ++dropped;
      continue;
    }
    auto [slot, inserted] = pending_.try_emplace(keys[i], rows[i]);
    if (!inserted && slot->second.last_seen < rows[i].last_seen) slot->second = std::move(rows[i]);
  }
  if (dropped > 0 && dropped_ != nullptr) dropped_->Increment(static_cast<double>(dropped));
  return status;
}

}  // namespace shadowplane::ingest
