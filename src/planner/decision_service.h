// The planner's record as operators use it: stored decisions listed and read, a recommendation
// applied as a migration, and the fleet-wide pause of every automatic move. Thread-safe.
#ifndef SHADOWPLANE_PLANNER_DECISION_SERVICE_H_
#define SHADOWPLANE_PLANNER_DECISION_SERVICE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "planner/calibration.h"
#include "planner/planner_loop.h"
#include "store/decision_repository.h"
#include "store/reservation_repository.h"

namespace shadowplane::planner {

struct DecisionServiceOptions {
  // The loop's interval: a decision not confirmed for two of them is stale.
  absl::Duration plan_interval = absl::Minutes(5);
  int max_page_size = 500;
};

struct DecisionQuery {
  std::string resource_id;  // empty: any
  std::string outcome;  // empty: any; else stay, move, recommend, blocked, scheduled or fallback
  std::optional<absl::Time> from;
  std::optional<absl::Time> to;
  int page_size = 50;  // 0: 50
  std::string page_token;
};

struct DecisionPage {
  std::vector<store::DecisionRecord> decisions;
  std::string next_page_token;  // empty: the last page
};

struct AppliedDecision {
  store::DecisionRecord decision;
  std::string migration_id;
};

struct PlannerStatus {
  bool paused = false;
  std::optional<store::ControlRecord> last_control;
  std::vector<store::ControlRecord> recent_controls;  // newest first
  int planned_moves_last_hour = 0;
};

class DecisionService {
 public:
  struct Sources {
    store::DecisionRepository* decisions = nullptr;
    store::ReservationRepository* reservations = nullptr;
    std::function<absl::StatusOr<std::string>(const MoveOrder&)> start_move;
    const Clock* clock = nullptr;
  };

  DecisionService(Sources sources, DecisionServiceOptions options);

  // INVALID_ARGUMENT naming outcome, from/to (inverted), page_size or page_token.
  absl::StatusOr<DecisionPage> List(const DecisionQuery& query);
  // NOT_FOUND for an unknown id.
  absl::StatusOr<store::DecisionRecord> Get(const std::string& id);
  // Starts the recorded recommendation `id` as a planned migration (idempotent: applying it
  // again answers with the same migration). NOT_FOUND for an unknown id; FAILED_PRECONDITION
  // when it is not a recommendation, or is stale: the reservation moved or
  // changed since, a migration of it is running, or the decision was last confirmed more than
  // two plan intervals ago.
  absl::StatusOr<AppliedDecision> Apply(const std::string& id);

  // Pause or resume every automatic move; recorded with `actor` and `reason` (INVALID_ARGUMENT
  // naming reason when it is over 1000 bytes). Idempotent: pausing a paused fleet records
  // nothing new and answers the standing pause.
  absl::StatusOr<PlannerStatus> Pause(const std::string& actor, const std::string& reason);
  absl::StatusOr<PlannerStatus> Resume(const std::string& actor, const std::string& reason);
  absl::StatusOr<PlannerStatus> Status();
  // Judged planner-started moves since `since`, by the confidence they were decided at.
  absl::StatusOr<std::vector<CalibrationBucket>> Calibration(absl::Time since);

 private:
  absl::StatusOr<PlannerStatus> Control(const std::string& action, const std::string& actor,
                                        const std::string& reason);

  const Sources sources_;
  const DecisionServiceOptions options_;
};

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_PLANNER_DECISION_SERVICE_H_
