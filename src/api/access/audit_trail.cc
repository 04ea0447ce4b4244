#include "api/access/audit_trail.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"

namespace shadowplane::api::access {
namespace {

constexpr size_t kBatch = 500;

}  // namespace

AuditTrail::AuditTrail(store::AuditRepository* repository, AuditTrailOptions options,
                       prometheus::Registry* registry)
    : repository_(repository), options_(options) {
  if (registry != nullptr) {
    auto& family = prometheus::BuildCounter()
                       .Name("shadowplane_audit_records_total")
                       .Help("Audit trail rows, by result (written; dropped: the queue was full)")
                       .Register(*registry);
    written_ = &family.Add({{"result", "written"}});
    dropped_ = &family.Add({{"result", "dropped"}});
  }
  writer_ = std::thread([this] { Run(); });
}

AuditTrail::~AuditTrail() {
  Flush(absl::Seconds(5));
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  writer_.join();
}

void AuditTrail::Record(store::AuditRecord record) {
  absl::MutexLock lock(&mu_);
  if (queue_.size() >= options_.max_queued) {
    if (dropped_ != nullptr) dropped_->Increment();
    return;
  }
  queue_.push_back(std::move(record));
  ++queued_total_;
}

absl::StatusOr<int64_t> AuditTrail::Begin(store::AuditRecord record) {
  record.code = "PENDING";
  absl::StatusOr<int64_t> id = repository_->Begin(record);
  if (!id.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "the audit trail cannot be written, so nothing is changed: ", id.status().message()));
  }
  if (written_ != nullptr) written_->Increment();
  return id;
}

bool AuditTrail::Flush(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const int64_t target = queued_total_;
  auto done = [this, target]()
                  ABSL_SHARED_LOCKS_REQUIRED(mu_) { return done_total_ >= target || stopping_; };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

void AuditTrail::Run() {
  absl::Time next_purge = absl::Now();
  absl::Duration backoff = absl::Milliseconds(200);
  while (true) {
    std::vector<store::AuditRecord> batch;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Seconds(1));
      if (stopping_ && queue_.empty()) return;
      const size_t n = std::min(queue_.size(), kBatch);
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
    }
    if (!batch.empty()) {
      absl::Status written = repository_->Append(batch);
      if (!written.ok()) {
        LOG_EVENT(kWarning, "audit trail not written; retrying")
            .Field("rows", static_cast<int64_t>(batch.size()))
            .Field("error", written);
        bool stopping;
        {
          absl::MutexLock lock(&mu_);
          stopping = stopping_;
          // Back to the front, in order; what no longer fits (or comes at shutdown) is dropped.
          for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
            if (stopping || queue_.size() >= options_.max_queued) {
              if (dropped_ != nullptr) dropped_->Increment();
              ++done_total_;
              continue;
            }
            queue_.push_front(std::move(*it));
          }
        }
        if (!stopping) {
          absl::SleepFor(backoff);
          backoff = std::min(backoff * 2, absl::Seconds(10));
        }
        continue;
      }
      backoff = absl::Milliseconds(200);
      if (written_ != nullptr) written_->Increment(static_cast<double>(batch.size()));
      absl::MutexLock lock(&mu_);
      done_total_ += static_cast<int64_t>(batch.size());
    }
    if (absl::Now() >= next_purge) {
      next_purge = absl::Now() + options_.purge_interval;
      absl::StatusOr<int64_t> purged = repository_->Purge(absl::Now() - options_.retention);
      if (!purged.ok()) {
        LOG_EVENT(kWarning, "audit trail not purged").Field("error", purged.status());
      } else if (*purged > 0) {
        LOG_EVENT(kInfo, "audit trail purged").Field("rows", *purged);
      }
    }
  }
}

}  // namespace shadowplane::api::access
