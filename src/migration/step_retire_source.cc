// The migration step RETIRING_SOURCE: after the drain period, the old primary kept as the shadow
// (scaled down, read-only) or deactivated.
#include "migration/migrator_internal.h"

namespace shadowplane::migration {

absl::StatusOr<StepResult> Migrator::RetireSource(const store::MigrationRecord& m,
                                                  const std::string& owner) {
  ASSIGN_OR_RETURN(Context c, Load(m));
  const store::ReservationRecord& r = c.reservation;
  const bool steered = traffic_ != nullptr && !r.traffic_provider.empty();
  if (steered && m.progress.switched_at.has_value()) {
    ASSIGN_OR_RETURN(absl::Duration drain, traffic_->DrainPeriod(r.service_name));
    const absl::Time drained = *m.progress.switched_at + drain;
    if (clock_->Now() < drained) return StepResult{m, drained - clock_->Now()};
  }
  const Capacity shadow_capacity =
      planner::ShadowCapacity(r.primary.capacity, r.shadow_capacity_fraction);
  // Forwarding ends first, so that the count below sees every request the old primary passed on.
  for (const store::InstanceRecord& i : c.instances) {
    if (!store::IsLive(i) || i.id == r.primary.id || i.role != "shadow") continue;
    RETURN_IF_ERROR(compute_->SetWriteRouting(i.location, i.id, {}).status());
    RETURN_IF_ERROR(compute_->SetReadOnly(i.location, i.id, true).status());
  }
  if (disruptions_ != nullptr) {
    RETURN_IF_ERROR(disruptions_->Measure(m, c.instances, clock_->Now()));
  }
  std::vector<std::string> retired;
  for (const store::InstanceRecord& i : c.instances) {
    if (!store::IsLive(i) || i.id == r.primary.id) continue;
    if (i.role == "shadow") {
      // Scaled whatever the record says: a crash between scaling and recording leaves the
      // record behind the instance, and scaling to the same capacity is harmless.
      const Capacity want{shadow_capacity.millicores, shadow_capacity.memory_mib, i.capacity.type};
      RETURN_IF_ERROR(compute_->ScaleInstance(i.location, i.id, want).status());
      FaultPoint("migration.retiring_source.after_scale");
      RETURN_IF_ERROR(reservations_->SetInstanceCapacity(i.id, want, clock_->Now()));
    } else if (i.role == "retired") {
      RETURN_IF_ERROR(Deactivate(i));
      retired.push_back(Quote(i.id));
    }
  }
  if (steered && m.progress.traffic_prepared) RestoreTraffic(m, r.service_name);
  store::MigrationRecord next = m;
  next.progress.observe_until =
      clock_->Now() +
      (m.decision_id.empty() ? options_.observe_window : options_.planned_observe_window);
  return MoveTo(next, store::MigrationState::kObserving,
                Json({{"retired", absl::StrCat("[", absl::StrJoin(retired, ", "), "]")},
                      {"shadow_millicores", absl::StrCat(shadow_capacity.millicores)}}),
                owner);
}

}  // namespace shadowplane::migration
