// Runs the steps of the migration state machine (store/migration_state.h) against live state.
// A step performs the side effects of the migration's current state, then commits the next state
// (with what it did: the progress columns, an event). Every step re-reads the reservation and its
// instances and converges, so a step that ran halfway (a crash, a lost lease) runs again safely.
// Each step is in a file of its own (src/migration/step_<state>.cc); this class keeps the dispatch,
// the state moves and what the steps share (migrator_internal.h).
//
//   PLANNED           waits for a slot under the concurrency limits; records the demand forecast
//                     that the observation will compare with.
//   PREPARING_TARGET  the target is the shadow when it sits at the target location with the
//                     target capacity type (scaled up to the primary's capacity), else a new
//                     instance there; asks the traffic provider to prepare (short TTL).
//   PRECOPY           full sync rounds into the target while the source serves, until a round
//                     leaves less than `cutover_dirty_bytes` changed behind it (or
//                     `max_precopy_rounds`); for a move timed by the planner, rounds go on (every
//                     `precopy_hold_interval`) until its `cutover_after`.
//   CUTOVER           freezes the source's writes (held, not refused), runs the final round and
//                     checks the target byte-identical (tree hash), makes the target writable,
//                     switches traffic, then makes the source read-only and lets it forward the
//                     held writes (and later ones, for the drain period) to the target. The
//                     write freeze (hold to the source forwarding) is recorded and fed to the
//                     freeze model. The roles swap in one transaction: the old primary becomes the
//                     shadow unless it breaks the diversity rule and the old shadow does not (then
//                     it is retired).
//   RETIRING_SOURCE   after the drain period: clears the old primary's forwarding, counts what
//                     the move did to the resource's affine clients (migration/disruption_count.h),
//                     scales the new shadow down to shadow capacity, deactivates retired
//                     instances, restores the TTL.
//   OBSERVING         after `observe_window` (`planned_observe_window` for a move the planner
//                     started): realised demand per region against the forecast, and whether the
//                     move paid off: the planner's objective on realised demand, old location
//                     against new, less the move's realised cost, is a saving.
//   ROLLING_BACK      (before the traffic switch) the source writable and unfrozen, a new target
//                     deactivated or the shadow scaled back, the TTL restored.
//   PROMOTING         (emergency) the shadow becomes the primary with the data it has, traffic
//                     moves urgently; the loss window is the shadow's staleness. The old primary,
//                     should it return, is fenced: read-only, re-synced as the shadow.
//
// Fault points (common/fault_point.h), for crash tests: "migration.entered.STATE" just after every
// state change commits, and inside the side effects "migration.preparing_target.after_choice",
// ".after_create", ".after_scale", "migration.precopy.after_round", "migration.cutover.
// after_freeze", ".after_final_round", ".after_target_writable", ".after_switch",
// ".after_source_forwarding", ".after_swap", "migration.retiring_source.after_scale",
// "migration.rolling_back.after_source_restored", "migration.promoting.after_target_writable",
// ".after_switch".
//
// Errors a step returns are retriable (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, RESOURCE_EXHAUSTED
// from a busy sync) or permanent; the driver (migration/migration_driver.h) decides what follows.
// Thread-safe: steps of different migrations may run at once; one migration's steps must not.
#ifndef SHADOWPLANE_MIGRATION_MIGRATOR_H_
#define SHADOWPLANE_MIGRATION_MIGRATOR_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "fencing/write_authority.h"
#include "geo/distance.h"
#include "migration/disruption_count.h"
#include "migration/freeze_model_keeper.h"
#include "migration/migration_stepper.h"
#include "planner/plan_objective.h"
#include "providers/compute_provider.h"
#include "providers/traffic_provider.h"
#include "shadow/target_sync.h"
#include "store/forecast_repository.h"
#include "store/location_repository.h"
#include "store/migration_repository.h"
#include "store/reservation_repository.h"
#include "store/telemetry_repository.h"
#include "traffic/traffic_switcher.h"

namespace prometheus {
class Registry;
class Counter;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane::migration {

struct MigratorOptions {
  // PRECOPY ends when a round leaves at most this much changed behind it...
  int64_t cutover_dirty_bytes = 8 << 20;
  // ...or after this many rounds (the final round, under the freeze, moves the rest).
  int max_precopy_rounds = 10;
  // A move timed to cut over later (MigrationRecord::cutover_after) runs a round this often
  // (real time) until then, so that the final round stays small.
  absl::Duration precopy_hold_interval = absl::Seconds(30);
  // Domain seconds per real second (the scaled clock's scale), to wait out a cutover time.
  double time_scale = 1;
  // How long the source holds a write during the freeze. Zero: the freeze model's high estimate
  // for the last pre-copy round's dirty set, doubled, at least 5 s and at most 60 s.
  absl::Duration freeze_hold = absl::ZeroDuration();
  absl::Duration observe_window = absl::Hours(6);
  // A planner-started move is watched for the planning horizon it was decided over.
  absl::Duration planned_observe_window = absl::Hours(24);
  // The planner's prices, for the realised saving.
  planner::PlanPrices prices;
  // Concurrency limits: migrations at work at once, in all and per target location. Emergency
  // promotions are not held back by them.
  int max_active = 4;
  int max_active_per_location = 2;
  double min_shadow_distance_km = 500;  // the diversity rule (planner/placement.h)
  geo::RttModel rtt;
};

class Migrator final : public MigrationStepper {
 public:
  // `traffic` and `switcher` may be null (no reservation's clients are steered); `disruptions`
  // too (clients' disruptions are not counted); `registry` too.
  Migrator(store::MigrationRepository* migrations, store::ReservationRepository* reservations,
           store::LocationRepository* locations, store::ForecastRepository* forecasts,
           store::TelemetryRepository* telemetry, providers::ComputeProvider* compute,
           fencing::WriteAuthority* writes, shadow::TargetSync* syncer,
           providers::TrafficProvider* traffic, traffic::TrafficSwitcher* switcher,
           FreezeModelKeeper* freeze_model, DisruptionCounter* disruptions, const Clock* clock,
           MigratorOptions options, prometheus::Registry* registry);

  absl::StatusOr<StepResult> Step(const store::MigrationRecord& m,
                                  const std::string& owner) override;
  absl::Status GiveUp(const store::MigrationRecord& m, const absl::Status& why,
                      const std::string& owner) override;

 private:
  struct Context;  // the live state a step works on
  absl::StatusOr<Context> Load(const store::MigrationRecord& m);

  absl::StatusOr<StepResult> Plan(const store::MigrationRecord& m, const std::string& owner);
  absl::StatusOr<StepResult> PrepareTarget(const store::MigrationRecord& m,
                                           const std::string& owner);
  absl::StatusOr<StepResult> Precopy(const store::MigrationRecord& m, const std::string& owner);
  absl::StatusOr<StepResult> Cutover(const store::MigrationRecord& m, const std::string& owner);
  absl::StatusOr<StepResult> RetireSource(const store::MigrationRecord& m,
                                          const std::string& owner);
  absl::StatusOr<StepResult> Observe(const store::MigrationRecord& m, const std::string& owner);
  absl::StatusOr<StepResult> RollBack(const store::MigrationRecord& m, const std::string& owner);
  absl::StatusOr<StepResult> Promote(const store::MigrationRecord& m, const std::string& owner);

  // Commits `m` (in `from`) to `to` with its progress and an event; the migration as it is then.
  absl::StatusOr<StepResult> MoveTo(const store::MigrationRecord& m, store::MigrationState to,
                                    const std::string& detail_json, const std::string& owner);
  // After `m` moved to `to`: the fault point, the metric and the log line; the migration now.
  absl::StatusOr<StepResult> Entered(const store::MigrationRecord& m, store::MigrationState to,
                                     const std::string& detail_json);
  // Undoes a freeze that did not reach the traffic switch: the source writable and serving, the
  // target read-only again. Best effort; the rollback repeats it.
  void Unfreeze(const Context& c);
  // The source read-only and passing writes (the held ones first) on to the target: where a
  // cutover's write freeze ends.
  absl::Status ForwardFromSource(const Context& c);
  absl::Duration HoldFor(const store::MigrationRecord& m);
  // Best effort: logged when the traffic server cannot be reached.
  void RestoreTraffic(const store::MigrationRecord& m, const std::string& service);
  // Deactivates an instance the move leaves over (data deleted) and records it stopped; when its
  // location cannot be reached, records it failed for the orphan reaper to stop later.
  absl::Status Deactivate(const store::InstanceRecord& instance);
  // The instance that stays the shadow after a cutover to `target` (see the header comment).
  std::string KeepAsShadow(const Context& c);
  void CountTransition(store::MigrationState to);

  store::MigrationRepository* const migrations_;
  store::ReservationRepository* const reservations_;
  store::LocationRepository* const locations_;
  store::ForecastRepository* const forecasts_;
  store::TelemetryRepository* const telemetry_;
  providers::ComputeProvider* const compute_;
  fencing::WriteAuthority* const writes_;
  shadow::TargetSync* const syncer_;
  providers::TrafficProvider* const traffic_;
  traffic::TrafficSwitcher* const switcher_;
  FreezeModelKeeper* const freeze_model_;
  DisruptionCounter* const disruptions_;
  const Clock* const clock_;
  const MigratorOptions options_;

  prometheus::Family<prometheus::Counter>* transitions_ = nullptr;
  prometheus::Family<prometheus::Histogram>* step_seconds_ = nullptr;
  prometheus::Histogram* freeze_seconds_ = nullptr;
  prometheus::Counter* precopy_rounds_ = nullptr;
  prometheus::Counter* precopy_bytes_ = nullptr;
  prometheus::Histogram* loss_window_seconds_ = nullptr;
  // Planner-started moves as OBSERVING judged them: by the confidence bucket they were decided at
  // and whether they paid off; their predicted and realised savings.
  prometheus::Family<prometheus::Counter>* judged_ = nullptr;
  prometheus::Histogram* predicted_saving_ = nullptr;
  prometheus::Histogram* realized_saving_ = nullptr;
};

}  // namespace shadowplane::migration

#endif  // SHADOWPLANE_MIGRATION_MIGRATOR_H_
