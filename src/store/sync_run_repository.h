// Sync rounds and their outcomes in PostgreSQL, and the shadow pairs the scheduler keeps in sync.
// A round's row and its reservation's last_synced_at / last_sync_error are written in one
// transaction. Thread-safe.
#ifndef SHADOWPLANE_STORE_SYNC_RUN_REPOSITORY_H_
#define SHADOWPLANE_STORE_SYNC_RUN_REPOSITORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"

namespace shadowplane::store {

struct SyncRunRecord {
  int64_t id = 0;
  std::string reservation_id;
  std::string source_instance;
  std::string target_instance;
  std::string trigger;  // periodic, manual, full, final
  std::string mode;     // quick, checksum, final
  absl::Time started_at;
  absl::Time finished_at;
  double duration_seconds = 0;
  std::string result;  // ok, failed
  std::string error;
  int64_t files_total = 0;
  int64_t files_transferred = 0;
  int64_t files_deleted = 0;
  int64_t bytes_total = 0;
  int64_t bytes_literal = 0;
  int64_t bytes_matched = 0;
  int64_t bytes_signature = 0;
  int64_t bytes_wire = 0;
  int64_t dirty_files = 0;
  int64_t dirty_bytes = 0;
  std::string source_tree_hash;
  std::string target_tree_hash;
  std::optional<bool> identical;
};

// An active reservation whose primary and shadow both run: what the scheduler syncs.
struct ShadowPair {
  std::string reservation_id;
  double interval_seconds = 60;
  std::optional<absl::Time> last_synced_at;
  std::string primary_location;
  std::string shadow_location;
};

// What a reservation's recent sync rounds say about moving it (planner/cutover_timing.h).
struct TransferStats {
  // Checksum rounds into an instance at the given location: bytes scanned per second of round
  // (0: none recorded).
  double bandwidth_bytes_per_second = 0;
  // All ok rounds: bytes changed at the source while a round ran, per second of round.
  double dirty_bytes_per_second = 0;
  int rounds = 0;
};

class SyncRunRepository {
 public:
  explicit SyncRunRepository(ConnectionPool* pool) : pool_(pool) {}

  // Inserts the round (filling in its id) and, for an ok round, moves the reservation's
  // last_synced_at forward to the round's start (never back); a failed round sets
  // last_sync_error.
  absl::Status Record(SyncRunRecord& run);
  // The newest rounds of a reservation first; at most `limit`.
  absl::StatusOr<std::vector<SyncRunRecord>> List(const std::string& reservation_id, int limit);
  absl::StatusOr<std::vector<ShadowPair>> ActivePairs();
  // From the reservation's last 50 ok rounds.
  absl::StatusOr<TransferStats> Transfer(const std::string& reservation_id,
                                         const std::string& target_location);

 private:
  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_SYNC_RUN_REPOSITORY_H_
