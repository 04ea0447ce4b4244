#include "ingest/ingest_writer.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/backoff.h"
#include "common/log.h"
#include "common/retriable.h"
#include "ingest/hyperloglog.h"

namespace shadowplane::ingest {

namespace {}  // namespace

IngestWriter::IngestWriter(store::AccessLogStore* store, const Clock* clock,
                           AffinityTracker* affinity, IngestWriterOptions options,
                           prometheus::Registry* registry)
    : store_(store), clock_(clock), affinity_(affinity), options_(options) {
  if (registry == nullptr) {
    own_registry_ = std::make_shared<prometheus::Registry>();
    registry = own_registry_.get();
  }
  events_ = &prometheus::BuildCounter()
                 .Name("shadowplane_ingest_events_total")
                 .Help(
                     "Access events of committed batches: accepted (raw log and demand), "
                     "demand_only (older than the raw retention), rejected")
                 .Register(*registry);
  for (const char* result : {"accepted", "demand_only", "rejected"}) {
    events_->Add({{"result", result}});  // at 0 from the start, for rates and alerts
  }
  demand_ = &prometheus::BuildCounter()
                 .Name("shadowplane_demand_requests_total")
                 .Help(
                     "Access events stored, by origin region (regions are the operator's, plus "
                     "unknown): realised demand across the fleet")
                 .Register(*registry);
  rejected_ = &prometheus::BuildCounter()
                   .Name("shadowplane_ingest_rejected_total")
                   .Help("Events and samples refused, by reason")
                   .Register(*registry);
  // The reasons of shadowplane.v1.Rejection, at 0 from the start, for rates and dashboards.
  for (const char* reason :
       {"malformed_ip", "missing_field", "invalid_field", "timestamp_in_future",
        "timestamp_too_old", "unknown_resource", "unknown_instance", "unknown_region",
        "negative_value", "not_a_number", "foreign_instance", "foreign_resource"}) {
    rejected_->Add({{"reason", reason}});
  }
  samples_ = &prometheus::BuildCounter()
                  .Name("shadowplane_ingest_samples_total")
                  .Help("Utilization samples of committed batches, accepted or rejected")
                  .Register(*registry);
  batches_ = &prometheus::BuildCounter()
                  .Name("shadowplane_ingest_batches_total")
                  .Help(
                      "Batches by outcome: committed, duplicate (a retried batch id), failed "
                      "(not committed; the sender resends)")
                  .Register(*registry);
  rows_ = &prometheus::BuildCounter()
               .Name("shadowplane_ingest_rows_total")
               .Help("Rows written by the ingest path, by table")
               .Register(*registry);
  commit_seconds_ = &prometheus::BuildHistogram()
                         .Name("shadowplane_ingest_batch_commit_seconds")
                         .Help("Time from a batch entering the ingest queue to its commit")
                         .Register(*registry)
                         .Add({}, prometheus::Histogram::BucketBoundaries{
                                      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
  queue_gauge_ = &prometheus::BuildGauge()
                      .Name("shadowplane_ingest_queue_records")
                      .Help("Events and samples waiting in the ingest queue")
                      .Register(*registry)
                      .Add({});
  prometheus::BuildGauge()
      .Name("shadowplane_ingest_queue_capacity_records")
      .Help("The ingest queue's bound (--ingest_queue_records)")
      .Register(*registry)
      .Add({})
      .Set(static_cast<double>(options_.max_queued_records));
  rows_per_second_ = &prometheus::BuildGauge()
                          .Name("shadowplane_ingest_rows_per_second")
                          .Help("Raw access rows committed per second over the last few seconds")
                          .Register(*registry)
                          .Add({});
  retries_ = &prometheus::BuildCounter()
                  .Name("shadowplane_ingest_commit_retries_total")
                  .Help("Group commits retried because the database was unreachable or busy")
                  .Register(*registry)
                  .Add({});
  for (int i = 0; i < std::max(1, options_.writers); ++i) {
    threads_.emplace_back([this] { Loop(); });
  }
}

IngestWriter::~IngestWriter() { Stop(); }

absl::Status IngestWriter::Submit(ValidatedBatch batch, Done done) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::FailedPreconditionError("the ingest writer is shutting down");
  if (queued_records_ + batch.records > options_.max_queued_records && !queue_.empty()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("ingest queue full (", queued_records_, " of ", options_.max_queued_records,
                     " records waiting for the database); retry after ",
                     absl::FormatDuration(options_.retry_after)));
  }
  queued_records_ += batch.records;
  queue_gauge_->Set(static_cast<double>(queued_records_));
  queue_.push_back({std::move(batch), std::move(done)});
  return absl::OkStatus();
}

void IngestWriter::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void IngestWriter::Loop() {
  for (;;) {
    std::vector<Entry> group;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !queue_.empty() || stopping_; };
      mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Seconds(1));
      size_t records = 0;
      while (!queue_.empty() && (group.empty() || records + queue_.front().batch.records <=
                                                      options_.max_group_records)) {
        records += queue_.front().batch.records;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_records_ -= records;
      queue_gauge_->Set(static_cast<double>(queued_records_));
      if (group.empty() && stopping_) return;
    }
    if (!group.empty()) Commit(group);
    absl::MutexLock lock(&rate_mu_);
    const absl::Duration window = absl::Now() - rate_window_start_;
    if (window >= absl::Seconds(5)) {
      rows_per_second_->Set(rate_window_rows_ / absl::ToDoubleSeconds(window));
      rate_window_rows_ = 0;
      rate_window_start_ = absl::Now();
    }
  }
}

void IngestWriter::Commit(std::vector<Entry>& group) {
  const absl::Time started = absl::Now();
  // A batch id twice in one group (a sender retried before the first was committed): the
  // first copy is committed, the others answered as its duplicates.
  std::vector<Entry*> unique;
  std::map<std::string, std::vector<Entry*>> repeats;
  {
    std::map<std::string, size_t> seen;
    for (Entry& e : group) {
      if (seen.emplace(e.batch.batch_id, unique.size()).second) {
        unique.push_back(&e);
      } else {
        repeats[e.batch.batch_id].push_back(&e);
      }
    }
  }
  std::vector<store::GroupBatch> ids;
  ids.reserve(unique.size());
  for (Entry* e : unique) ids.push_back({e->batch.batch_id, e->batch.counts});

  absl::StatusOr<store::GroupResult> result = CommitWithRetries(unique, ids);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - started);
  if (!result.ok()) {
    LOG_EVENT(kError, "telemetry batches not committed")
        .Field("batches", group.size())
        .Field("error", result.status());
    const absl::Status failed = absl::UnavailableError(
        absl::StrCat("not committed, resend the batch: ", result.status().message()));
    for (Entry& e : group) {
      batches_->Add({{"result", "failed"}}).Increment();
      e.done(failed);
    }
    return;
  }
  LOG_EVENT(kDebug, "telemetry group committed")
      .Field("batches", group.size())
      .Field("seconds", seconds)
      .Field("dedup_seconds", absl::ToDoubleSeconds(result->dedup_time))
      .Field("rows_seconds", absl::ToDoubleSeconds(result->rows_time))
      .Field("copy_seconds", absl::ToDoubleSeconds(result->copy_time))
      .Field("demand_seconds", absl::ToDoubleSeconds(result->demand_time))
      .Field("commit_seconds", absl::ToDoubleSeconds(result->commit_time));
  // Affinity first: by the time a sender sees its acknowledgement, its clients are noted.
  if (affinity_ != nullptr) {
    std::vector<const store::AccessRow*> committed_rows;
    for (size_t i = 0; i < unique.size(); ++i) {
      if (result->duplicate[i]) continue;
      for (const store::AccessRow& r : unique[i]->batch.raw) committed_rows.push_back(&r);
    }
    if (!committed_rows.empty()) affinity_->Note(committed_rows);
  }
  for (size_t i = 0; i < unique.size(); ++i) {
    Entry& e = *unique[i];
    const bool duplicate = result->duplicate[i];
    commit_seconds_->Observe(seconds);
    Count(e.batch, duplicate);
    e.done(BatchResult{result->counts[i], duplicate});
    for (Entry* repeat : repeats[e.batch.batch_id]) {
      batches_->Add({{"result", "duplicate"}}).Increment();
      repeat->done(BatchResult{result->counts[i], true});
    }
  }
}

absl::StatusOr<store::GroupResult> IngestWriter::CommitWithRetries(
    std::vector<Entry*>& unique, const std::vector<store::GroupBatch>& ids) {
  // Rows of the batches the database has not seen, and their demand merged per hour and region.
  auto rows = [&unique, this](const std::vector<bool>& is_new) {
    store::GroupRows rows;
    std::map<DemandKey, DemandCell> demand;
    for (size_t i = 0; i < unique.size(); ++i) {
      if (!is_new[i]) continue;
      const ValidatedBatch& b = unique[i]->batch;
      for (const store::AccessRow& r : b.raw) rows.access.push_back(&r);
      for (const store::UtilizationRow& s : b.samples) rows.utilization.push_back(&s);
      for (const auto& [key, cell] : b.demand) demand[key].Add(cell);
    }
    rows.demand.reserve(demand.size());
    for (const auto& [key, cell] : demand) {
      HyperLogLog sketch(options_.sketch_precision);
      for (uint64_t h : cell.client_hashes) sketch.AddHash(h);
      store::DemandDelta d;
      d.resource_id = key.resource_id;
      d.origin_region = key.origin_region;
      d.hour = key.hour;
      d.sums = cell.sums;
      d.clients_sketch = sketch.Serialize();
      rows.demand.push_back(std::move(d));
    }
    return rows;
  };

  std::set<absl::CivilDay> days;
  for (Entry* e : unique) {
    for (const store::AccessRow& r : e->batch.raw) {
      days.insert(absl::ToCivilDay(r.ts, absl::UTCTimeZone()));
    }
  }
  Backoff backoff(absl::Milliseconds(50), absl::Seconds(2));
  const absl::Time deadline = absl::Now() + options_.commit_deadline;
  bool partitions_rechecked = false;
  for (;;) {
    std::vector<absl::CivilDay> missing;
    {
      absl::MutexLock lock(&partitions_mu_);
      for (absl::CivilDay d : days) {
        if (partitions_.count(d) == 0) missing.push_back(d);
      }
    }
    absl::Status status = store_->EnsurePartitions(missing);
    if (status.ok()) {
      {
        absl::MutexLock lock(&partitions_mu_);
        partitions_.insert(missing.begin(), missing.end());
      }
      absl::StatusOr<store::GroupResult> result = store_->CommitGroup(clock_->Now(), ids, rows);
      if (result.ok()) return result;
      status = result.status();
      if (!IsRetriable(status) && !partitions_rechecked) {
        // A partition dropped under us (retention upkeep on another replica) fails the COPY:
        // forget what we knew and try once more.
        partitions_rechecked = true;
        absl::MutexLock lock(&partitions_mu_);
        partitions_.clear();
        continue;
      }
    }
    if (!IsRetriable(status) || absl::Now() >= deadline) return status;
    retries_->Increment();
    LOG_EVENT(kWarning, "telemetry commit failed; retrying").Field("error", status);
    absl::SleepFor(std::min(backoff.Next(), deadline - absl::Now()));
  }
}

void IngestWriter::Count(const ValidatedBatch& batch, bool duplicate) {
  if (duplicate) {
    batches_->Add({{"result", "duplicate"}}).Increment();
    return;
  }
  batches_->Add({{"result", "committed"}}).Increment();
  const store::BatchCounts& c = batch.counts;
  events_->Add({{"result", "accepted"}}).Increment(static_cast<double>(c.events_accepted));
  events_->Add({{"result", "demand_only"}}).Increment(static_cast<double>(c.events_demand_only));
  samples_->Add({{"result", "accepted"}}).Increment(static_cast<double>(c.samples_accepted));
  for (const store::RejectionCount& r : c.rejections) {
    rejected_->Add({{"reason", r.reason}}).Increment(static_cast<double>(r.count));
  }
  events_->Add({{"result", "rejected"}}).Increment(static_cast<double>(batch.events_rejected));
  std::map<std::string, double> by_region;
  for (const auto& [key, cell] : batch.demand) {
    by_region[key.origin_region] += static_cast<double>(cell.sums.requests);
  }
  for (const auto& [region, requests] : by_region) {
    demand_->Add({{"origin_region", region}}).Increment(requests);
  }
  samples_->Add({{"result", "rejected"}}).Increment(static_cast<double>(batch.samples_rejected));
  rows_->Add({{"table", "client_access_log"}}).Increment(static_cast<double>(batch.raw.size()));
  rows_->Add({{"table", "instance_utilization"}})
      .Increment(static_cast<double>(batch.samples.size()));
  absl::MutexLock lock(&rate_mu_);
  rate_window_rows_ += static_cast<double>(batch.raw.size());
}

}  // namespace shadowplane::ingest
