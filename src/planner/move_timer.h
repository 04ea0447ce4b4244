// Times a decision to move (planner/cutover_timing.h) and prices the affine clients' sessions at
// the cutover it chooses. For a decision with a target it reads the hourly point forecast over the
// horizon (stored forecasts only, known events applied) and the reservation's recent sync rounds
// (the bandwidth into the target's location and the dirty rate), estimates pre-copy, and picks the
// start and cutover times. The affine sessions expected at the cutover are today's scaled by the
// forecast demand of the cutover's hour against the current hour's; the decision is taken again
// with them priced so (when it still names the same target, it stands; otherwise the first,
// priced with today's sessions, does). In auto mode a move whose start lies at or beyond the next
// tick becomes "scheduled" (move at T).
//
// Timing never blocks a decision: when the hourly forecast or the rounds cannot be read, the
// decision stands untimed and its reason says why. Thread-safe (reads only).
#ifndef SHADOWPLANE_PLANNER_MOVE_TIMER_H_
#define SHADOWPLANE_PLANNER_MOVE_TIMER_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "forecast/predictor.h"
#include "planner/cutover_timing.h"
#include "planner/move_decision.h"
#include "store/reservation_repository.h"
#include "store/sync_run_repository.h"

namespace shadowplane::planner {

struct MoveTimerOptions {
  // The pre-copy model's defaults: bandwidth before any round was measured, round cap, safety
  // factor and the clock's scale.
  PrecopyInputs precopy;
  // The planner's tick: a start later than one tick from now is scheduled.
  absl::Duration plan_interval = absl::Minutes(5);
  // Affine clients were seen within this window.
  absl::Duration affinity_session = absl::Minutes(15);
};

class MoveTimer {
 public:
  // `predictor` and `sync_runs` may be null: decisions are then left untimed (sync_runs null: the
  // default bandwidth and no dirty rate).
  MoveTimer(forecast::Predictor* predictor, store::SyncRunRepository* sync_runs,
            MoveTimerOptions options);

  // `subject.move.affine_sessions` holds the affine clients now (`subject.affine_clients`). Fills
  // d's affinity and, with a
  // target, its timing; may take the decision again (see above).
  void Time(const store::ReservationRecord& reservation, const PlanSubject& subject,
            const DemandOutlook* demand, const PlanContext& context, absl::Time now,
            PlanDecision* d) const;

 private:
  absl::StatusOr<TimingExplanation> Timing(const store::ReservationRecord& reservation,
                                           const PlanSubject& subject, const DemandOutlook& demand,
                                           const PlanDecision& d, absl::Time now) const;

  forecast::Predictor* const predictor_;
  store::SyncRunRepository* const sync_runs_;
  const MoveTimerOptions options_;
};

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_PLANNER_MOVE_TIMER_H_
