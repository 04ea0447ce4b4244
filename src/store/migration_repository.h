// The `migrations` table (the persisted state machine, store/migration_state.h) and its
// `migration_events`. Every state change is a compare-and-set on the row's state, committed with
// its event in one transaction, so a driver that lost its lease (or a second driver) can never
// move a migration twice. Leases live in the row: a driver claims unfinished migrations whose
// lease is free or expired (FOR UPDATE SKIP LOCKED, the database's clock) and heartbeats them.
// Thread-safe (each call takes a pooled connection).
#ifndef SHADOWPLANE_STORE_MIGRATION_REPOSITORY_H_
#define SHADOWPLANE_STORE_MIGRATION_REPOSITORY_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"
#include "store/migration_state.h"

namespace shadowplane::store {

// What a migration's steps have done so far (migrations/0010_migration_progress.sql): a driver
// that takes a migration over resumes from it.
struct MigrationProgress {
  int attempts = 0;  // retriable failures of the current step
  std::optional<absl::Time> next_attempt_at;
  std::string last_error;
  int precopy_rounds = 0;
  std::optional<int64_t> bytes_left;
  bool traffic_prepared = false;
  std::optional<absl::Time> switch_not_before;
  std::optional<absl::Time> freeze_started_at;
  // The same moment on the wall clock: the instances record their clients' disruptions in it.
  std::optional<absl::Time> freeze_started_wall;
  std::optional<double> freeze_seconds;
  std::optional<int64_t> final_dirty_bytes;
  std::optional<int64_t> final_dirty_files;
  // Written before the traffic switch is asked for; switched_at once it is done.
  std::optional<absl::Time> switch_requested_at;
  std::optional<absl::Time> switched_at;
  std::optional<double> loss_window_seconds;
  std::optional<absl::Time> observe_until;
  std::optional<double> forecast_wape;
  std::optional<bool> paid_off;
  // Dollars over the observed window: the objective at the old location less at the new one,
  // less the move's cost (planner/realized_saving.h).
  std::optional<double> realized_saving;
  // When the demand the move was made for arrived (planner/realized_shift.h): the start of the
  // first hour its target was the cheapest location by realised demand; unset when it never was.
  std::optional<absl::Time> realized_shift_at;
  std::string observation_note;
};

struct MigrationRecord {
  std::string id;
  std::string request_id;
  std::string resource_id;
  MigrationState state = MigrationState::kPlanned;
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
  std::string kind = "planned";  // planned, emergency
  bool cancel_requested = false;
  std::optional<absl::Time> state_entered_at;
  MigrationProgress progress;
  // Set when the planner started it (planner_decisions.id), with what the decision expected.
  std::string decision_id;
  std::optional<double> predicted_saving;
  std::optional<double> predicted_confidence;
  // A forced move against a deadline (a spot fallback): traffic switches without waiting out the
  // DNS TTL, and pre-copy stops after one round.
  bool urgent = false;
  // A planned move timed by the planner: pre-copy goes on (rounds keep the target current) until
  // this domain time, so that the freeze falls where the planner chose.
  std::optional<absl::Time> cutover_after;
};

// One pre-copy or final sync round of a migration.
struct MigrationRoundRecord {
  int round = 0;
  std::string kind;  // precopy, final
  absl::Time at;
  int64_t files_transferred = 0;
  int64_t bytes_literal = 0;
  int64_t bytes_wire = 0;
  int64_t dirty_files = 0;
  int64_t dirty_bytes = 0;
  double duration_seconds = 0;
};

// Demand from one origin region in one hour: forecast when the migration started, and as it came
// (nullopt until measured, or when not forecast).
struct MigrationObservationRecord {
  std::string origin_region;
  absl::Time hour;
  std::optional<double> predicted_requests;
  std::optional<double> realized_requests;
};

struct MigrationEventRecord {
  int64_t id = 0;
  absl::Time at;
  std::string from_state;  // empty for the first
  std::string to_state;
  std::string detail_json;
  std::string driver;  // the lease owner that made the change; empty outside a driver
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
  std::optional<MigrationProgress> progress;  // replaces the stored progress when set
  std::string detail_json = "{}";             // the event's detail
};

class MigrationRepository {
 public:
  explicit MigrationRepository(ConnectionPool* pool) : pool_(pool) {}

  // Records a PLANNED migration and its first event. With a request_id already used, returns that
  // migration (*created false). FAILED_PRECONDITION naming it when the resource already has an
  // unfinished migration other than one in OBSERVING; one in OBSERVING is ended (DONE, with a note
  // naming the new migration) in the same transaction.
  absl::StatusOr<MigrationRecord> Create(const MigrationRecord& migration, absl::Time now,
                                         bool* created);
  // NOT_FOUND for an unknown id.
  absl::StatusOr<MigrationRecord> Get(const std::string& id);
  absl::StatusOr<std::optional<MigrationRecord>> FindByRequestId(const std::string& request_id);
  // The migrations of each of `resource_ids` created after `created_after` (one query), by
  // resource id, oldest first. Ids that are not UUIDs are skipped.
  absl::StatusOr<std::map<std::string, std::vector<MigrationRecord>>> OfResources(
      const std::vector<std::string>& resource_ids, absl::Time created_after);
  absl::StatusOr<std::vector<MigrationRecord>> List(const MigrationFilter& filter);
  absl::StatusOr<std::vector<MigrationEventRecord>> Events(const std::string& id);

  // Moves the migration from `from` to `to` with `change`, and records the event, in one
  // transaction: only if it is still in `from` and, with a non-empty `owner`, still leased by
  // `owner`. ABORTED otherwise (another driver moved it, or the lease was lost); NOT_FOUND for an
  // unknown id; FAILED_PRECONDITION, before anything is read, for a move the state machine does
  // not allow (store/migration_state.h; staying in an unfinished state is allowed).
  absl::Status Transition(const std::string& id, MigrationState from, MigrationState to,
                          const MigrationChange& change, absl::Time now, const std::string& owner);

  // PLANNED -> PREPARING_TARGET (with `progress` and an event of `detail_json`) if the migration
  // is an emergency or urgent, or fewer than `max_active` migrations are at work, and fewer than
  // `max_per_location` into its target location; false (nothing changed) otherwise. Checked and
  // moved under one lock, so concurrent starts never overshoot the limits. ABORTED as Transition.
  absl::StatusOr<bool> StartWithinLimits(const std::string& id, int max_active,
                                         int max_per_location, const MigrationProgress& progress,
                                         const std::string& detail_json, absl::Time now,
                                         const std::string& owner);
  // Saves `progress` without a state change (no event): only if the migration is still in
  // `state` and, with a non-empty `owner`, still leased by `owner`; ABORTED otherwise.
  absl::Status SaveProgress(const std::string& id, MigrationState state,
                            const MigrationProgress& progress, absl::Time now,
                            const std::string& owner);
  // Asks for a migration to be cancelled: its driver rolls it back while that is still safe.
  // NOT_FOUND for an unknown id.
  absl::Status RequestCancel(const std::string& id);

  // Records a round (replacing one of the same number: a retried step).
  absl::Status RecordRound(const std::string& id, const MigrationRoundRecord& round);
  absl::StatusOr<std::vector<MigrationRoundRecord>> Rounds(const std::string& id);
  // Records the forecast (predicted_requests of each row; a retried step keeps the first), or the
  // realised demand (realized_requests of each row).
  absl::Status RecordPredicted(const std::string& id,
                               const std::vector<MigrationObservationRecord>& rows);
  absl::Status RecordRealized(const std::string& id,
                              const std::vector<MigrationObservationRecord>& rows);
  // By region, then hour.
  absl::StatusOr<std::vector<MigrationObservationRecord>> Observations(const std::string& id);
  // Migrations per state, for metrics.
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> CountByState();

  // Leases to `owner` for `ttl` up to `limit` unfinished migrations that no one holds (or whose
  // lease expired), oldest first; migrations `owner` already holds are renewed and returned too.
  absl::StatusOr<std::vector<MigrationRecord>> Claim(const std::string& owner, absl::Duration ttl,
                                                     int limit);
  // Gives the lease up (a driver stopping cleanly); nothing when `owner` does not hold it.
  absl::Status Release(const std::string& id, const std::string& owner);

 private:
  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_MIGRATION_REPOSITORY_H_
