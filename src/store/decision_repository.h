// The planner's record: `planner_decisions` (the loop's decisions with their explanations, linked
// to the migrations they started) and `planner_controls` (Pause and Resume, an audit log whose
// newest row is the fleet's state). See migrations/0012_planner.sql. Thread-safe (each call takes
// a pooled connection).
#ifndef SHADOWPLANE_STORE_DECISION_REPOSITORY_H_
#define SHADOWPLANE_STORE_DECISION_REPOSITORY_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"

namespace shadowplane::store {

struct DecisionRecord {
  std::string id;  // set by Insert
  std::string resource_id;
  std::string reservation_id;
  absl::Time decided_at;
  std::string outcome;        // stay, move, recommend, blocked, scheduled, fallback
  std::string blocking_gate;  // empty: none
  std::string from_location;
  std::string to_location;       // empty: no candidate qualified
  std::string to_capacity_type;  // with to_location: "spot" or "on_demand"
  double confidence = 0;
  double expected_saving = 0;
  std::string mode;
  double threshold = 0;
  absl::Duration horizon;
  std::string reason;
  std::string explanation_json;
  absl::Time reservation_updated_at;
  // The last tick that took the same decision again (decided_at until one does).
  absl::Time confirmed_at;
  // Read: the migration it started (migrations.decision_id); empty when none.
  std::string migration_id;
  // A move timed by the planner: when it is to start and cut over.
  std::optional<absl::Time> start_at;
  std::optional<absl::Time> cutover_at;
  // Read: a scheduled decision that ended (started, replaced or cancelled), when and how.
  std::optional<absl::Time> ended_at;
  std::string end_note;
};

// A scheduled decision that was ended.
struct EndedSchedule {
  std::string id;
  std::string resource_id;
  std::string note;
};

// What the loop compares a new decision with.
struct LastDecision {
  std::string id;
  std::string outcome;
  std::string to_location;
  std::string blocking_gate;
  absl::Time decided_at;
};

struct DecisionFilter {
  std::string resource_id;         // empty: any
  std::string outcome;             // empty: any
  std::optional<absl::Time> from;  // decided_at >= from
  std::optional<absl::Time> to;    // decided_at < to
  int page_size = 100;
  // Newest first: the (decided_at, id) of the previous page's last row.
  std::optional<absl::Time> before_time;
  std::string before_id;
};

struct ControlRecord {
  int64_t id = 0;
  absl::Time at;
  std::string action;  // pause, resume
  std::string actor;
  std::string reason;
};

class DecisionRepository {
 public:
  explicit DecisionRepository(ConnectionPool* pool) : pool_(pool) {}

  // Stores `d` and returns its id.
  absl::StatusOr<std::string> Insert(const DecisionRecord& d);
  // Stores every decision of `batch` in one statement (ids are not returned).
  absl::Status InsertBatch(const std::vector<DecisionRecord>& batch);
  // NOT_FOUND for an unknown id (one that is not a UUID included).
  absl::StatusOr<DecisionRecord> Get(const std::string& id);
  absl::StatusOr<std::vector<DecisionRecord>> List(const DecisionFilter& filter);
  // The newest decision of every resource decided at or after `since`, by resource id.
  absl::StatusOr<std::map<std::string, LastDecision>> LatestSince(absl::Time since);
  // Marks the decisions `ids` as taken again at `at`, in one statement.
  absl::Status Confirm(const std::vector<std::string>& ids, absl::Time at);
  // The newest open scheduled decision of every resource that has one, by resource id.
  absl::StatusOr<std::map<std::string, LastDecision>> OpenScheduled();
  // Ends `resource_id`'s open scheduled decisions (other than `except_id`) at `at` with `note`;
  // returns how many.
  absl::StatusOr<int64_t> EndScheduled(const std::string& resource_id, const std::string& note,
                                       absl::Time at, const std::string& except_id = "");
  // Ends, at `at`, the open scheduled decisions whose reservation is no longer active or whose
  // primary is no longer where the decision moves it from (released, or moved by other means);
  // returns them with the note that ended them.
  absl::StatusOr<std::vector<EndedSchedule>> CancelStaleScheduled(absl::Time at);
  // Deletes decisions decided before `before`; returns how many.
  absl::StatusOr<int64_t> PruneBefore(absl::Time before);

  // The fleet's moves created at or after `since` that count in the planner's hourly budget: those
  // the planner started (decision_id set), those location drains asked for (request id
  // "drain-...", migration/location_drainer.h), and spot fallbacks (urgent: they run whatever the
  // budget, but a burst of them holds planned moves back).
  absl::StatusOr<int> PlannedMovesSince(absl::Time since);

  // Planner-started migrations judged since `since` (paid_off set): the confidence and predicted
  // saving they were started on, and the realised saving.
  struct Judged {
    double confidence = 0;
    double predicted_saving = 0;
    double realized_saving = 0;
    bool paid_off = false;
  };
  absl::StatusOr<std::vector<Judged>> JudgedMoves(absl::Time since);

  absl::StatusOr<ControlRecord> RecordControl(const ControlRecord& control);
  // The newest control row; nullopt when the planner was never paused.
  absl::StatusOr<std::optional<ControlRecord>> LatestControl();
  // Newest first.
  absl::StatusOr<std::vector<ControlRecord>> Controls(int limit);

 private:
  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_DECISION_REPOSITORY_H_
