// The migration step PREPARING_TARGET: the target instance made ready (the shadow scaled up, or a
// new instance created), then pre-copy, or promotion for an emergency.
#include "migration/migrator_internal.h"

namespace shadowplane::migration {

absl::StatusOr<StepResult> Migrator::PrepareTarget(const store::MigrationRecord& m,
                                                   const std::string& owner) {
  ASSIGN_OR_RETURN(Context c, Load(m));
  const store::ReservationRecord& r = c.reservation;
  if (r.state != "active") {
    return absl::FailedPreconditionError(
        absl::StrCat("reservation ", r.id, " is ", r.state, ", not active"));
  }
  const bool emergency = m.kind == "emergency";
  if (!emergency && (r.primary.id != m.source_instance_id || r.primary.state != "running")) {
    return absl::FailedPreconditionError(
        absl::StrCat("the primary of reservation ", r.id, " is no longer instance ",
                     m.source_instance_id, " running (", r.primary.id, ", ", r.primary.state, ")"));
  }
  CapacityType type = r.capacity.type;
  ParseCapacityType(m.target_capacity_type, &type);
  const Capacity wanted{r.capacity.millicores, r.capacity.memory_mib, type};

  // Choose the target once, and persist the choice before acting on it.
  if (c.target.id.empty()) {
    std::string action = "scale_shadow";
    store::InstanceRecord target = r.shadow;
    if (r.shadow.id.empty() || r.shadow.location != m.target_location ||
        r.shadow.capacity.type != type || !store::IsLive(r.shadow)) {
      if (emergency) {
        return absl::FailedPreconditionError(absl::StrCat(
            "reservation ", r.id, " has no live shadow at ", m.target_location, " to promote"));
      }
      ASSIGN_OR_RETURN(target, reservations_->AddTarget(m.resource_id, m.target_location, wanted,
                                                        clock_->Now()));
      action = "create_target";
    }
    store::MigrationChange chosen_target;
    chosen_target.target_instance_id = target.id;
    chosen_target.detail_json =
        Json({{"target_instance_id", Quote(target.id)}, {"action", Quote(action)}});
    RETURN_IF_ERROR(
        migrations_->Transition(m.id, m.state, m.state, chosen_target, clock_->Now(), owner));
    FaultPoint("migration.preparing_target.after_choice");
    ASSIGN_OR_RETURN(store::MigrationRecord chosen, migrations_->Get(m.id));
    return StepResult{chosen, absl::ZeroDuration()};
  }

  store::InstanceRecord& t = c.target;
  if (t.role == "target") {
    providers::InstanceSpec spec;
    spec.instance_id = t.id;
    spec.resource_id = m.resource_id;
    spec.location = t.location;
    spec.capacity = t.capacity;
    spec.read_only = true;
    spec.forward_secret = r.forward_secret;
    ASSIGN_OR_RETURN(providers::InstanceInfo info, compute_->CreateInstance(spec));
    FaultPoint("migration.preparing_target.after_create");
    RETURN_IF_ERROR(reservations_->SetInstance(t.id, "running", info.endpoint, clock_->Now()));
  } else {
    // The resource's forwarding secret, which the instance checks on what the old primary passes
    // on once traffic switches: a shadow made before secrets were handed out has none yet.
    providers::WriteRouting keyed;
    keyed.forward_secret = r.forward_secret;
    RETURN_IF_ERROR(compute_->SetWriteRouting(t.location, t.id, keyed).status());
    if (t.capacity.millicores != wanted.millicores || t.capacity.memory_mib != wanted.memory_mib) {
      RETURN_IF_ERROR(compute_->ScaleInstance(t.location, t.id, wanted).status());
      FaultPoint("migration.preparing_target.after_scale");
      RETURN_IF_ERROR(reservations_->SetInstanceCapacity(t.id, wanted, clock_->Now()));
    }
  }

  store::MigrationRecord next = m;
  if (!emergency && traffic_ != nullptr && !r.traffic_provider.empty() &&
      !m.progress.traffic_prepared) {
    ASSIGN_OR_RETURN(absl::Duration wait, traffic_->Prepare(r.service_name));
    next.progress.traffic_prepared = true;
    // An urgent move switches with the TTL shortened but without waiting for caches to expire.
    next.progress.switch_not_before = clock_->Now() + (m.urgent ? absl::ZeroDuration() : wait);
  }
  return MoveTo(next,
                emergency ? store::MigrationState::kPromoting : store::MigrationState::kPrecopy,
                Json({{"target_instance_id", Quote(t.id)},
                      {"millicores", absl::StrCat(wanted.millicores)},
                      {"memory_mib", absl::StrCat(wanted.memory_mib)}}),
                owner);
}

}  // namespace shadowplane::migration
