#include "ingest/affinity_tracker.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "common/log.h"
#include "ingest/validated_batch.h"

namespace shadowplane::ingest {

namespace {
constexpr size_t kRowsPerStatement = 5000;
}  // namespace

AffinityTracker::AffinityTracker(store::TelemetryRepository* repository, size_t max_pending,
                                 prometheus::Registry* registry)
    : repository_(repository), max_pending_(max_pending) {
  if (registry == nullptr) return;
  auto& family = prometheus::BuildCounter()
                     .Name("shadowplane_client_affinity_updates_total")
                     .Help(
                         "Client affinity updates: written to the table, or dropped because the "
                         "database stayed unreachable while too many were pending")
                     .Register(*registry);
  written_ = &family.Add({{"result", "written"}});
  dropped_ = &family.Add({{"result", "dropped"}});
}

void AffinityTracker::Note(const std::vector<const store::AccessRow*>& rows) {
  bool full;
  {
    absl::MutexLock lock(&mu_);
    for (const store::AccessRow* r : rows) {
      std::string key = ClientKey(*r);
      store::AffinityRow& row = pending_[{r->resource_id, key}];
      if (!row.resource_id.empty() && row.last_seen > r->ts) continue;
      row.resource_id = r->resource_id;
      row.client_key = std::move(key);
      if (!r->instance_id.empty()) row.instance_id = r->instance_id;
      row.origin_region = r->origin_region;
      row.last_seen = r->ts;
    }
    full = pending_.size() >= max_pending_;
  }
  if (full) {
    if (absl::Status s = Flush(); !s.ok()) {
      LOG_EVENT(kWarning, "flushing client affinity failed").Field("error", s);
    }
  }
}

absl::Status AffinityTracker::Flush() {
  absl::MutexLock flushing(&flush_mu_);
  std::map<Key, store::AffinityRow> taken;
  {
    absl::MutexLock lock(&mu_);
    taken.swap(pending_);
  }
  if (taken.empty()) return absl::OkStatus();
  std::vector<store::AffinityRow> rows;
  rows.reserve(std::min(taken.size(), kRowsPerStatement));
  absl::Status status;
  auto it = taken.begin();
  while (it != taken.end()) {
    rows.clear();
    auto chunk_start = it;
    for (; it != taken.end() && rows.size() < kRowsPerStatement; ++it) rows.push_back(it->second);
    status = repository_->UpsertAffinity(rows);
    if (!status.ok()) {
      it = chunk_start;
      break;
    }
    taken.erase(chunk_start, it);
    if (written_ != nullptr) written_->Increment(static_cast<double>(rows.size()));
  }
  if (taken.empty()) return status;
  // Not written: put back under newer sightings, within the bound.
  absl::MutexLock lock(&mu_);
  size_t dropped = 0;
  for (auto& [key, row] : taken) {
    auto [slot, inserted] = pending_.try_emplace(key, row);
    if (!inserted) continue;  // a newer sighting arrived meanwhile
    if (pending_.size() > max_pending_) {
      pending_.erase(slot);
      ++dropped;
    }
  }
  if (dropped > 0 && dropped_ != nullptr) dropped_->Increment(static_cast<double>(dropped));
  return status;
}

size_t AffinityTracker::pending() const {
  absl::MutexLock lock(&mu_);
  return pending_.size();
}

}  // namespace shadowplane::ingest
