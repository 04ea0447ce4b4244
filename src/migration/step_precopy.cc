// The migration step PRECOPY: sync rounds under live writes until little enough is left for the
// cutover, and, for a move timed by the planner, on until its cutover time.
#include "migration/migrator_internal.h"

namespace shadowplane::migration {

absl::StatusOr<StepResult> Migrator::Precopy(const store::MigrationRecord& m,
                                             const std::string& owner) {
  ASSIGN_OR_RETURN(store::ReservationRecord r, reservations_->GetByResource(m.resource_id));
  ASSIGN_OR_RETURN(shadow::SyncOutcome outcome,
                   syncer_->SyncInto(r.id, m.target_instance_id, shadow::SyncTrigger::kFull));
  FaultPoint("migration.precopy.after_round");
  const store::SyncRunRecord& run = outcome.run;
  const store::MigrationRoundRecord round = RoundOf(run, m.progress.precopy_rounds + 1, "precopy");
  RETURN_IF_ERROR(migrations_->RecordRound(m.id, round));
  if (precopy_rounds_ != nullptr) {
    precopy_rounds_->Increment();
    precopy_bytes_->Increment(static_cast<double>(run.bytes_literal));
  }
  store::MigrationRecord next = m;
  next.progress.precopy_rounds = round.round;
  next.progress.bytes_left = run.dirty_bytes;
  LOG_EVENT(kInfo, "migration pre-copy round")
      .Field("migration_id", m.id)
      .Field("round", round.round)
      .Field("bytes_literal", run.bytes_literal)
      .Field("dirty_bytes", run.dirty_bytes)
      .Field("dirty_files", run.dirty_files);
  const bool ready = run.dirty_bytes <= options_.cutover_dirty_bytes ||
                     round.round >= options_.max_precopy_rounds || m.urgent;
  const absl::Time now = clock_->Now();
  const bool held = !m.urgent && m.cutover_after.has_value() && now < *m.cutover_after;
  if (ready && !held) {
    return MoveTo(next, store::MigrationState::kCutover,
                  Json({{"precopy_rounds", absl::StrCat(round.round)},
                        {"bytes_left", absl::StrCat(run.dirty_bytes)}}),
                  owner);
  }
  RETURN_IF_ERROR(migrations_->SaveProgress(m.id, m.state, next.progress, now, owner));
  ASSIGN_OR_RETURN(store::MigrationRecord saved, migrations_->Get(m.id));
  if (!ready) return StepResult{saved, absl::ZeroDuration()};
  // Ready, but timed to cut over later: another round after a while keeps the target close, and
  // the wait never runs past the cutover time (domain time, converted by the clock's scale).
  const double scale = options_.time_scale > 0 ? options_.time_scale : 1;
  const absl::Duration until_cutover = (*m.cutover_after - now) / scale;
  return StepResult{saved, std::max(absl::Milliseconds(10),
                                    std::min(options_.precopy_hold_interval, until_cutover))};
}

}  // namespace shadowplane::migration
