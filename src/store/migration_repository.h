// The `migrations` table (the persisted state machine, migration/migration_state.h) and its
// `migration_events`. Every state change is a compare-and-set on the row's state, committed with
// its event in one transaction, so a driver that lost its lease (or a second driver) can never
// move a migration twice. Leases live in the row: a driver claims unfinished migrations whose
// lease is free or expired (FOR UPDATE SKIP LOCKED, the database's clock) and heartbeats them.
// Thread-safe (each call takes a pooled connection).
#ifndef SHADOWPLANE_STORE_MIGRATION_REPOSITORY_H_
#define SHADOWPLANE_STORE_MIGRATION_REPOSITORY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"

namespace shadowplane::store {

struct MigrationRecord {
  std::string id;
  std::string request_id;
  std::string resource_id;
  std::string state = "PLANNED";
  std::string reason;
  std::string source_instance_id;  // empty: none
  std::string target_instance_id;  // empty: not created yet
  std::string target_location;
  std::string target_capacity_type = "on_demand";
  std::string lease_owner;  // empty: unclaimed
  std::optional<absl::Time> lease_expires_at;
  std::string error;
  absl::Time created_at;
  absl::Time updated_at;
};

struct MigrationEventRecord {
  int64_t id = 0;
  absl::Time at;
  std::string from_state;  // empty for the first
  std::string to_state;
  std::string detail_json;
};

struct MigrationFilter {
  std::string resource_id;  // empty: any
  std::string state;        // empty: any
  std::optional<absl::Time> created_after;
  int page_size = 100;
  std::string after;  // the last id of the previous page (ordered by created_at, id)
};

// What a state change writes besides the state (unset fields stay as they are).
struct MigrationChange {
  std::optional<std::string> target_instance_id;
  std::optional<std::string> error;
  std::string detail_json = "{}";  // the event's detail
};

class MigrationRepository {
 public:
  explicit MigrationRepository(ConnectionPool* pool) : pool_(pool) {}

  // Records a PLANNED migration and its first event. With a request_id already used, returns that
  // migration (*created false). FAILED_PRECONDITION naming it when the resource already has an
  // unfinished migration.
  absl::StatusOr<MigrationRecord> Create(const MigrationRecord& migration, absl::Time now,
                                         bool* created);
  // NOT_FOUND for an unknown id.
  absl::StatusOr<MigrationRecord> Get(const std::string& id);
  absl::StatusOr<std::vector<MigrationRecord>> List(const MigrationFilter& filter);
  absl::StatusOr<std::vector<MigrationEventRecord>> Events(const std::string& id);

  // Moves the migration from `from` to `to` with `change`, and records the event, in one
  // transaction: only if it is still in `from` and, with a non-empty `owner`, still leased by
  // `owner`. ABORTED otherwise (another driver moved it, or the lease was lost); NOT_FOUND for an
  // unknown id.
  absl::Status Transition(const std::string& id, const std::string& from, const std::string& to,
                          const MigrationChange& change, absl::Time now, const std::string& owner);

  // Leases to `owner` for `ttl` up to `limit` unfinished migrations that no one holds (or whose
  // lease expired), oldest first; migrations `owner` already holds are renewed and returned too.
  absl::StatusOr<std::vector<MigrationRecord>> Claim(const std::string& owner, absl::Duration ttl,
                                                     int limit);
  // Extends `owner`'s lease; ABORTED when `owner` no longer holds it.
  absl::Status Heartbeat(const std::string& id, const std::string& owner, absl::Duration ttl);
  // Gives the lease up (a driver stopping cleanly); nothing when `owner` does not hold it.
  absl::Status Release(const std::string& id, const std::string& owner);

 private:
  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_MIGRATION_REPOSITORY_H_
