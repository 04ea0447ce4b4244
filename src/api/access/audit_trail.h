// Writes the audit trail (store/audit_repository.h). A change's row is written ahead, before the
// change is made (Begin(): the call fails with UNAVAILABLE if it cannot be), and completed with
// its outcome afterwards; refusals and outcomes go off the calls' threads: Record() queues a row
// and returns at once; a writer thread appends what is queued in one statement, retrying while
// the database is away. A full queue drops the newest rows (counted: an audit trail must not take
// the server down with it). Every hour it deletes the rows older than the retention.
//
// Metrics: shadowplane_audit_records_total{result} (written, dropped).
#ifndef SHADOWPLANE_API_ACCESS_AUDIT_TRAIL_H_
#define SHADOWPLANE_API_ACCESS_AUDIT_TRAIL_H_

#include <deque>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "store/audit_repository.h"

namespace prometheus {
class Registry;
class Counter;
}  // namespace prometheus

namespace shadowplane::api::access {

struct AuditTrailOptions {
  absl::Duration retention = absl::Hours(24 * 90);
  size_t max_queued = 10000;
  absl::Duration purge_interval = absl::Hours(1);
};

class AuditTrail {
 public:
  AuditTrail(store::AuditRepository* repository, AuditTrailOptions options,
             prometheus::Registry* registry);
  // Writes what is queued (for at most five seconds), then stops.
  ~AuditTrail();

  void Record(store::AuditRecord record);
  // Writes `record` (code PENDING) now, before the change it records is made, so that no change
  // is ever made without its row; its id, for Record() to complete it with the outcome. A server
  // that stops in between leaves the row PENDING: the change may or may not have been made.
  absl::StatusOr<int64_t> Begin(store::AuditRecord record);
  // Blocks until everything queued before the call is written (or `timeout` passed); for tests
  // and shutdown.
  bool Flush(absl::Duration timeout);

 private:
  void Run();

  store::AuditRepository* const repository_;
  const AuditTrailOptions options_;
  prometheus::Counter* written_ = nullptr;
  prometheus::Counter* dropped_ = nullptr;
  absl::Mutex mu_;
  std::deque<store::AuditRecord> queue_ ABSL_GUARDED_BY(mu_);
  int64_t queued_total_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t done_total_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread writer_;
};

}  // namespace shadowplane::api::access

#endif  // SHADOWPLANE_API_ACCESS_AUDIT_TRAIL_H_
