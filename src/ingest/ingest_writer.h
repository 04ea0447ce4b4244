// The background writer of the ingest path: validated batches from every stream wait in one
// bounded queue; each of `writers` threads takes as many as fit in a group and commits the group
// in one transaction (store::AccessLogStore::CommitGroup: batch ids, COPY of the raw rows and
// samples, demand_hourly merged), then calls each batch's callback. Grouping is what makes small
// batches from many streams cheap: one transaction, one COPY, one rollup merge for all of them.
//
// Back-pressure: Submit refuses a batch with RESOURCE_EXHAUSTED when the queue's records would
// pass `max_queued_records`; memory stays bounded and the sender retries after `retry_after`.
// A group that fails to commit because the database is unreachable is retried until
// `commit_deadline`; its batches are then failed with UNAVAILABLE (the sender resends; batch ids
// make that safe). A batch is acknowledged only after its commit. Thread-safe.
//
// Metrics: shadowplane_ingest_events_total{result="accepted"|"demand_only"|"rejected"},
// shadowplane_ingest_rejected_total{reason}, shadowplane_ingest_samples_total{result},
// shadowplane_ingest_batches_total{result="committed"|"duplicate"|"failed"},
// shadowplane_ingest_batch_commit_seconds, shadowplane_ingest_queue_records,
// shadowplane_ingest_queue_capacity_records, shadowplane_ingest_rows_total{table},
// shadowplane_ingest_rows_per_second, shadowplane_ingest_commit_retries_total.
#ifndef SHADOWPLANE_INGEST_INGEST_WRITER_H_
#define SHADOWPLANE_INGEST_INGEST_WRITER_H_

#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "ingest/affinity_tracker.h"
#include "ingest/validated_batch.h"
#include "store/access_log_store.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane::ingest {

struct IngestWriterOptions {
  size_t max_queued_records = 50'000;
  size_t max_group_records = 25'000;
  // Groups committed at once, each on its own connection: one group's rollup and round trips
  // overlap another's COPY.
  int writers = 2;
  absl::Duration commit_deadline = absl::Seconds(30);
  absl::Duration retry_after = absl::Seconds(1);
  int sketch_precision = 12;
};

struct BatchResult {
  store::BatchCounts counts;
  bool duplicate = false;
};

class IngestWriter {
 public:
  using Done = std::function<void(absl::StatusOr<BatchResult>)>;

  // `affinity` may be null.
  IngestWriter(store::AccessLogStore* store, const Clock* clock, AffinityTracker* affinity,
               IngestWriterOptions options, prometheus::Registry* registry);
  ~IngestWriter();

  // Queues `batch`; `done` runs on the writer thread once it committed or failed. When the
  // queue cannot take it: RESOURCE_EXHAUSTED (the message says when to retry) and `done` is not
  // called. FAILED_PRECONDITION after Stop().
  absl::Status Submit(ValidatedBatch batch, Done done);
  // Stops taking batches, commits what is queued (giving up on a group whose database is gone
  // after `commit_deadline`), and joins the threads. Idempotent.
  void Stop();

  const IngestWriterOptions& options() const { return options_; }

 private:
  struct Entry {
    ValidatedBatch batch;
    Done done;
  };
  void Loop();
  void Commit(std::vector<Entry>& group);
  absl::StatusOr<store::GroupResult> CommitWithRetries(std::vector<Entry*>& unique,
                                                       const std::vector<store::GroupBatch>& ids);
  void Count(const ValidatedBatch& batch, bool duplicate);

  store::AccessLogStore* const store_;
  const Clock* const clock_;
  AffinityTracker* const affinity_;
  const IngestWriterOptions options_;

  absl::Mutex mu_;
  std::deque<Entry> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_records_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex partitions_mu_;
  std::set<absl::CivilDay> partitions_ ABSL_GUARDED_BY(partitions_mu_);  // days known to exist
  absl::Mutex rate_mu_;
  absl::Time rate_window_start_ ABSL_GUARDED_BY(rate_mu_) = absl::Now();
  double rate_window_rows_ ABSL_GUARDED_BY(rate_mu_) = 0;
  std::vector<std::thread> threads_;

  std::shared_ptr<prometheus::Registry> own_registry_;  // when none was given

  prometheus::Family<prometheus::Counter>* events_ = nullptr;
  prometheus::Family<prometheus::Counter>* demand_ = nullptr;
  prometheus::Family<prometheus::Counter>* rejected_ = nullptr;
  prometheus::Family<prometheus::Counter>* samples_ = nullptr;
  prometheus::Family<prometheus::Counter>* batches_ = nullptr;
  prometheus::Family<prometheus::Counter>* rows_ = nullptr;
  prometheus::Histogram* commit_seconds_ = nullptr;
  prometheus::Gauge* queue_gauge_ = nullptr;
  prometheus::Gauge* rows_per_second_ = nullptr;
  prometheus::Counter* retries_ = nullptr;
};

}  // namespace shadowplane::ingest

#endif  // SHADOWPLANE_INGEST_INGEST_WRITER_H_
