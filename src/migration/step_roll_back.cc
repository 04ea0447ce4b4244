// The migration step ROLLING_BACK: the source serving again and the target undone, before traffic
// moved.
#include "migration/migrator_internal.h"

namespace shadowplane::migration {

absl::StatusOr<StepResult> Migrator::RollBack(const store::MigrationRecord& m,
                                              const std::string& owner) {
  ASSIGN_OR_RETURN(Context c, Load(m));
  const store::ReservationRecord& r = c.reservation;
  // The source, still the primary, serves writes itself again. An emergency never touched it
  // (it was lost; the promotion, which would have, cannot be rolled back): nothing to undo there,
  // and waiting for it to answer would hold the resource from the next failover.
  if (m.kind != "emergency" && !c.source.id.empty() && c.source.id == r.primary.id &&
      store::IsLive(c.source)) {
    RETURN_IF_ERROR(
        compute_->SetWriteRouting(c.source.location, c.source.id, providers::WriteRouting{})
            .status());
    RETURN_IF_ERROR(writes_->Restore(c.source).status());
    FaultPoint("migration.rolling_back.after_source_restored");
  }
  if (!c.target.id.empty() && store::IsLive(c.target)) {
    if (c.target.role == "target") {
      RETURN_IF_ERROR(Deactivate(c.target));
    } else if (c.target.role == "shadow") {
      RETURN_IF_ERROR(compute_->SetReadOnly(c.target.location, c.target.id, true).status());
      RETURN_IF_ERROR(reservations_->SetInstanceReadOnly(c.target.id, true, clock_->Now()));
      const Capacity want = planner::ShadowCapacity(r.capacity, r.shadow_capacity_fraction);
      const Capacity typed{want.millicores, want.memory_mib, c.target.capacity.type};
      // Whatever the record says (it may lag the instance after a crash).
      RETURN_IF_ERROR(compute_->ScaleInstance(c.target.location, c.target.id, typed).status());
      RETURN_IF_ERROR(reservations_->SetInstanceCapacity(c.target.id, typed, clock_->Now()));
    }
  }
  if (traffic_ != nullptr && !r.traffic_provider.empty() && m.progress.traffic_prepared) {
    RestoreTraffic(m, r.service_name);
  }
  return MoveTo(m, store::MigrationState::kRolledBack, Json({{"source_serving", "true"}}), owner);
}

}  // namespace shadowplane::migration
