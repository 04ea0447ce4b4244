// The agent's telemetry on disk until the control plane acknowledged it
// (agent/telemetry_shipper.h). Every batch is a file `<number>-<records>.batch`
// (agent/telemetry_batch.h's encoding, written atomically), shipped in number order and deleted
// once acknowledged. Bounded by `max_bytes`: past the bound the oldest batches are dropped (and
// counted), never the newest.
//
// Exactly once, across restarts of the agent and the control plane: a batch's id names what it
// holds ("a-<instance>-<epoch>-<first>-<last>": an instance log's records first..last, or
// "u-<instance>-<unix_us>": one utilization sample), so a resent batch is recognised by the
// control plane as one it committed. What was read from each instance's log is known from the
// newest batch spooled for it and, once shipped and deleted, from `cursors` (instance, epoch, last
// record shipped), which is written before a shipped batch is deleted. Thread-safe.
#ifndef SHADOWPLANE_AGENT_TELEMETRY_SPOOL_H_
#define SHADOWPLANE_AGENT_TELEMETRY_SPOOL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "agent/telemetry_batch.h"

namespace shadowplane::agent {

// Where an instance's log was read up to.
struct LogCursor {
  std::string epoch;
  int64_t last = 0;  // the last record spooled (or shipped)
};

// "a-<instance>-<epoch>-<first>-<last>".
std::string AccessBatchId(const std::string& instance_id, const std::string& epoch, int64_t first,
                          int64_t last);
// What an access batch id covers; nullopt for any other id.
struct CoveredRecords {
  std::string instance_id, epoch;
  int64_t first = 0, last = 0;
};
std::optional<CoveredRecords> CoveredBy(const std::string& batch_id);

class TelemetrySpool {
 public:
  // Creates `dir` when missing and recovers what it holds. FAILED_PRECONDITION when it cannot.
  static absl::StatusOr<std::unique_ptr<TelemetrySpool>> Open(const std::string& dir,
                                                              int64_t max_bytes);

  // Writes `batch` as the newest file; drops the oldest past the bound. FAILED_PRECONDITION (the
  // batch is not kept) when the file cannot be written.
  absl::Status Append(const TelemetryBatch& batch);
  // The oldest batch, its file's number; nullopt when empty. UNAVAILABLE... never: a file that
  // cannot be read or parsed is dropped (counted in dropped_records()) and the next one returned.
  std::optional<std::pair<int64_t, TelemetryBatch>> Oldest();
  // The control plane acknowledged batch `number` (or refused it for good): its cursor, if an
  // access batch, is recorded, then its file deleted.
  absl::Status Acknowledge(int64_t number, const TelemetryBatch& batch);

  // Per instance, where its log was read up to (spooled or shipped).
  std::map<std::string, LogCursor> Cursors() const;
  int64_t bytes() const;
  int64_t batches() const;
  // Records dropped: past the bound, or in files that could not be read back.
  int64_t dropped_records() const;

 private:
  TelemetrySpool(std::string dir, int64_t max_bytes)
      : dir_(std::move(dir)), max_bytes_(max_bytes) {}
  absl::Status Recover();
  absl::Status WriteCursorsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void NoteCoveredLocked(const std::string& batch_id, std::map<std::string, LogCursor>& into)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string PathOf(int64_t number, int64_t records) const;

  struct Entry {
    int64_t records = 0;
    int64_t bytes = 0;
  };
  const std::string dir_;
  const int64_t max_bytes_;
  mutable absl::Mutex mu_;
  std::map<int64_t, Entry> files_ ABSL_GUARDED_BY(mu_);  // by number
  int64_t next_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, LogCursor> shipped_ ABSL_GUARDED_BY(mu_);  // as in `cursors`
  std::map<std::string, LogCursor> spooled_ ABSL_GUARDED_BY(mu_);  // newest per instance
};

}  // namespace shadowplane::agent

#endif  // SHADOWPLANE_AGENT_TELEMETRY_SPOOL_H_
