// The planner loop: every `interval` of domain time, on the replica holding the "planner" lease,
// decides for every active reservation (planner::PlanService over stored forecasts only, on the
// worker pool), records the decisions, and in auto mode starts a planned migration for a decision
// to move, with the decision's id on it. A tick:
//   1. takes or renews the lease when a tick is due (nothing else when another replica holds it);
//   2. reads the round's shared inputs once (catalog, prices, the fleet's pause and budget);
//   3. plans the active reservations page by page, in batches of `batch_size` on the workers
//      (PlanService::PlanReservations: one read of each kind a batch), at most `max_in_flight`
//      batches at once;
//   4. writes a decision row when a resource's outcome, target or blocking gate changed, or its
//      last row is `record_every` old, and otherwise confirms the last row (one statement of
//      each a page);
//   5. prunes decisions older than `decision_retention`.
// Moves beyond the fleet's hourly budget wait: their decision says fleet_budget. A resource
// whose forecast is missing or stale is decided (stay, with that gate) and counted as skipped.
// A tick that overruns its interval makes the next one wait a whole interval more (counted); a
// tick the database failed is counted and retried at the next interval; a decision and the
// migration it starts are written in that order, and the migration names the decision, so a
// failure between them leaves a decision without a migration, never the reverse.
//
// Metrics: shadowplane_planner_leader, shadowplane_planner_ticks_total{result},
// shadowplane_planner_tick_seconds, shadowplane_planner_resources_planned,
// shadowplane_planner_resources_skipped_total{reason}, shadowplane_planner_decisions_total{outcome,
// gate}, shadowplane_planner_confidence, shadowplane_planner_moves_started_total{result},
// shadowplane_planner_paused, shadowplane_planner_decisions_pruned_total,
// shadowplane_planner_demand_reads_total{read}. Thread-safe.
#ifndef SHADOWPLANE_PLANNER_PLANNER_LOOP_H_
#define SHADOWPLANE_PLANNER_PLANNER_LOOP_H_

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/worker_pool.h"
#include "planner/plan_service.h"
#include "store/decision_repository.h"
#include "store/lease_store.h"
#include "store/reservation_repository.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane::planner {

struct PlannerLoopOptions {
  std::string owner;
  // Domain time between ticks.
  absl::Duration interval = absl::Minutes(5);
  // Real time; renewed as the tick goes.
  absl::Duration lease_ttl = absl::Minutes(15);
  // An unchanged decision is written again after this long.
  absl::Duration record_every = absl::Hours(1);
  absl::Duration decision_retention = absl::Hours(24 * 7);
  int page_size = 500;
  // Reservations a worker plans together, their inputs read in one query of each kind.
  int batch_size = 50;
  // Batches queued or being planned at once.
  int max_in_flight = 8;
};

// What a decision to move asks of the migrations.
struct MoveOrder {
  std::string reservation_id;
  std::string resource_id;
  std::string target_location;
  std::string capacity_type;  // "spot" or "on_demand"; empty: the primary's
  std::string decision_id;
  std::string reason;
  double predicted_saving = 0;
  double confidence = 0;
  // The cutover time the planner chose (planner/cutover_timing.h); unset: as soon as ready.
  std::optional<absl::Time> cutover_after;
};

class PlannerLoop {
 public:
  struct Sources {
    PlanService* plans = nullptr;
    store::ReservationRepository* reservations = nullptr;
    store::DecisionRepository* decisions = nullptr;
    store::LeaseStore* leases = nullptr;
    // Starts a planned migration (idempotent by the decision id); returns the migration's id.
    std::function<absl::StatusOr<std::string>(const MoveOrder&)> start_move;
    // The decision's explanation as stored (planner_decisions.explanation).
    std::function<std::string(const PlanDecision&)> explain;
    const Clock* clock = nullptr;
    WorkerPool* workers = nullptr;  // its queue must hold max_in_flight
  };

  PlannerLoop(Sources sources, PlannerLoopOptions options, prometheus::Registry* registry);

  struct Tick {
    bool leader = false;
    bool ran = false;  // false: not due yet (or not the leader)
    int planned = 0;
    int failed = 0;  // reservations whose decision could not be taken or written
    int skipped_stale = 0;
    int recorded = 0;
    int confirmed = 0;
    int moves_started = 0;
    int moves_failed = 0;
    int scheduled_cancelled = 0;  // scheduled moves ended unstarted
    int64_t pruned = 0;
    std::map<std::string, int> outcomes;  // by outcome name
  };
  // A tick when one is due (see above). An error when the tick could not run at all.
  absl::StatusOr<Tick> RunOnce();
  // Ends a tick in progress between reservations (and every later one). Idempotent.
  void Stop() { stopping_ = true; }

  static constexpr char kLeaseName[] = "planner";

 private:
  struct TickState;
  // Decides, records and acts for one reservation; false when it failed (logged).
  bool Handle(const store::ReservationRecord& reservation, absl::StatusOr<PlanDecision> decided,
              const PlanRound& round, TickState* state);
  absl::StatusOr<Tick> RunTick(absl::Time now);
  // Ends the resource's open scheduled decisions with `note` (best effort: logged).
  void EndScheduled(const std::string& resource_id, const std::string& note, const char* result,
                    const std::string& except_id = "");
  // The decision's explanation as stored ("{}" without an `explain`).
  std::string Explain(const PlanDecision& d) const;

  const Sources sources_;
  const PlannerLoopOptions options_;
  std::atomic<bool> stopping_{false};
  absl::Mutex mu_;  // one tick at a time
  absl::Time next_due_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();

  prometheus::Gauge* leader_ = nullptr;
  prometheus::Gauge* planned_ = nullptr;
  prometheus::Gauge* paused_ = nullptr;
  prometheus::Counter* pruned_ = nullptr;
  prometheus::Family<prometheus::Counter>* ticks_ = nullptr;
  prometheus::Family<prometheus::Counter>* skipped_ = nullptr;
  prometheus::Family<prometheus::Counter>* decisions_ = nullptr;
  prometheus::Family<prometheus::Counter>* moves_ = nullptr;
  prometheus::Counter* spot_returns_ = nullptr;
  prometheus::Family<prometheus::Counter>* scheduled_ = nullptr;
  prometheus::Family<prometheus::Counter>* demand_reads_ = nullptr;
  prometheus::Histogram* tick_seconds_ = nullptr;
  prometheus::Histogram* confidence_ = nullptr;
};

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_PLANNER_PLANNER_LOOP_H_
