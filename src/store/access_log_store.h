// The write side of client access telemetry in PostgreSQL: one transaction per group of batches
// stores the batch ids (so a retried batch is stored once), the raw events (COPY into the
// day-partitioned client_access_log), the utilization samples (COPY into instance_utilization),
// and adds the group's demand to demand_hourly. Also the upkeep that keeps those tables bounded:
// daily partitions created ahead and dropped after the retention, old rollups, samples and batch
// ids deleted. Thread-safe (each call takes a pooled connection).
#ifndef SHADOWPLANE_STORE_ACCESS_LOG_STORE_H_
#define SHADOWPLANE_STORE_ACCESS_LOG_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"
#include "store/demand_sums.h"

namespace shadowplane::store {

// One accepted client access, as stored.
struct AccessRow {
  absl::Time ts;
  std::string client_ip;  // canonical text form
  std::string resource_id;
  std::string instance_id;  // empty: not known
  std::string request_type;
  double cpu_millis = 0;
  int64_t memory_bytes = 0;
  int64_t bytes_in = 0;
  int64_t bytes_out = 0;
  std::optional<double> latency_ms;
  std::string origin_region;
  std::string client_id;  // empty: none
};

struct UtilizationRow {
  absl::Time ts;
  std::string instance_id;
  std::string resource_id;
  double interval_seconds = 0;
  double cpu_seconds = 0;
  int64_t memory_bytes = 0;
  int64_t net_bytes_in = 0;
  int64_t net_bytes_out = 0;
};

// Demand to add to one demand_hourly row. `clients_sketch` is a serialised sketch; merging it
// with the stored one is the caller's (see CommitOptions::merge_sketches).
struct DemandDelta {
  std::string resource_id;
  std::string origin_region;
  absl::Time hour;
  DemandSums sums;
  std::string clients_sketch;
};

struct RejectionCount {
  std::string reason;  // a fixed identifier: [a-z_]+
  int64_t count = 0;
  std::vector<int> first_events;
  std::vector<int> first_samples;
};

// What a batch's acknowledgement reports; stored with its id so that a retry gets the same.
struct BatchCounts {
  int64_t events_accepted = 0;
  int64_t events_demand_only = 0;
  int64_t samples_accepted = 0;
  std::vector<RejectionCount> rejections;
};

// What to store for the batches of a group that were not committed before.
struct GroupRows {
  std::vector<const AccessRow*> access;
  std::vector<const UtilizationRow*> utilization;
  std::vector<DemandDelta> demand;
};

struct GroupBatch {
  std::string batch_id;
  BatchCounts counts;
};

struct GroupResult {
  // Per batch of the group, in order: false when it was new (stored now), true when it had been
  // committed before (nothing stored; `counts` is what that commit reported).
  std::vector<bool> duplicate;
  std::vector<BatchCounts> counts;
  // Where the time went: batch ids, building the rows (the caller's callback), COPY, demand.
  absl::Duration dedup_time, rows_time, copy_time, demand_time, commit_time;
};

// How rows travel in COPY: binary (store/copy_binary.h: the server copies values instead of
// parsing them) or text (libpqxx's stream_to with copy_text.h's blocks; what was used before,
// and the reference the binary path is tested against).
enum class CopyFormat { kBinary, kText };

struct CommitOptions {
  // The union of two serialised sketches (the stored one and the delta's).
  std::function<absl::StatusOr<std::string>(const std::string&, const std::string&)> merge_sketches;
  CopyFormat copy_format = CopyFormat::kBinary;
};

class AccessLogStore {
 public:
  AccessLogStore(ConnectionPool* pool, CommitOptions options)
      : pool_(pool), options_(std::move(options)) {}

  // One transaction: records the batch ids; for those not seen before, calls `rows(is_new)` and
  // stores what it returns; commits. Batch ids must be distinct within a group. The days of
  // `rows().access` must have partitions (EnsurePartitions). UNAVAILABLE when the database is
  // unreachable (nothing committed, or, if the connection broke during COMMIT, possibly
  // committed: a retry then finds the batch ids and reports them as duplicates).
  absl::StatusOr<GroupResult> CommitGroup(
      absl::Time now, const std::vector<GroupBatch>& batches,
      const std::function<GroupRows(const std::vector<bool>& is_new)>& rows);

  // Creates the daily partitions of client_access_log for `days` (UTC) that do not exist yet.
  absl::Status EnsurePartitions(const std::vector<absl::CivilDay>& days);
  // The days that have a partition, ascending.
  absl::StatusOr<std::vector<absl::CivilDay>> ListPartitions();
  // Drops the partitions of days before `first_kept`; returns how many.
  absl::StatusOr<int> DropPartitionsBefore(absl::CivilDay first_kept);

  struct Pruned {
    int64_t demand_rows = 0;
    int64_t utilization_rows = 0;
    int64_t batch_ids = 0;
    int64_t affinity_rows = 0;
  };
  // Deletes demand_hourly rows before `demand_cutoff`, samples and affinity before
  // `raw_cutoff`, and batch ids committed before `batch_cutoff`.
  absl::StatusOr<Pruned> Prune(absl::Time demand_cutoff, absl::Time raw_cutoff,
                               absl::Time batch_cutoff);

 private:
  ConnectionPool* const pool_;
  const CommitOptions options_;
};

// "client_access_log_p20261129".
std::string AccessLogPartitionName(absl::CivilDay day);

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_ACCESS_LOG_STORE_H_
