#include "migration/migrator.h"

#include "migration/migrator_internal.h"

namespace shadowplane::migration {

Migrator::Migrator(store::MigrationRepository* migrations,
                   store::ReservationRepository* reservations, store::LocationRepository* locations,
                   store::ForecastRepository* forecasts, store::TelemetryRepository* telemetry,
                   providers::ComputeProvider* compute, fencing::WriteAuthority* writes,
                   shadow::TargetSync* syncer, providers::TrafficProvider* traffic,
                   traffic::TrafficSwitcher* switcher, FreezeModelKeeper* freeze_model,
                   DisruptionCounter* disruptions, const Clock* clock, MigratorOptions options,
                   prometheus::Registry* registry)
    : migrations_(migrations),
      reservations_(reservations),
      locations_(locations),
      forecasts_(forecasts),
      telemetry_(telemetry),
      compute_(compute),
      writes_(writes),
      syncer_(syncer),
      traffic_(traffic),
      switcher_(switcher),
      freeze_model_(freeze_model),
      disruptions_(disruptions),
      clock_(clock),
      options_(std::move(options)) {
  if (registry == nullptr) return;
  transitions_ = &prometheus::BuildCounter()
                      .Name("shadowplane_migration_transitions_total")
                      .Help("Migration state changes, by the state entered.")
                      .Register(*registry);
  // Every state from the start, at 0: an alert on rollbacks sees a series before the first one.
  for (int s = static_cast<int>(store::MigrationState::kPlanned);
       s <= static_cast<int>(store::MigrationState::kPromoting); ++s) {
    transitions_->Add({{"to", store::StateName(static_cast<store::MigrationState>(s))}});
  }
  step_seconds_ = &prometheus::BuildHistogram()
                       .Name("shadowplane_migration_step_seconds")
                       .Help("Duration of one run of a migration step, by state.")
                       .Register(*registry);
  freeze_seconds_ =
      &prometheus::BuildHistogram()
           .Name("shadowplane_migration_write_freeze_seconds")
           .Help(
               "Write-freeze window of cutovers: from holding writes at the source to writes "
               "applied again (the source forwarding to the writable target).")
           .Register(*registry)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30});
  precopy_rounds_ = &prometheus::BuildCounter()
                         .Name("shadowplane_migration_precopy_rounds_total")
                         .Help("Pre-copy sync rounds run by migrations.")
                         .Register(*registry)
                         .Add({});
  precopy_bytes_ = &prometheus::BuildCounter()
                        .Name("shadowplane_migration_precopy_bytes_total")
                        .Help("New data (literal bytes) moved by migrations' pre-copy rounds.")
                        .Register(*registry)
                        .Add({});
  loss_window_seconds_ =
      &prometheus::BuildHistogram()
           .Name("shadowplane_migration_loss_window_seconds")
           .Help("Emergency promotions: how far behind its primary the promoted shadow was.")
           .Register(*registry)
           .Add({}, prometheus::Histogram::BucketBoundaries{1, 5, 15, 30, 60, 120, 300, 900, 3600});
  judged_ = &prometheus::BuildCounter()
                 .Name("shadowplane_planner_moves_judged_total")
                 .Help(
                     "Planner-started migrations judged after OBSERVING, by the confidence "
                     "bucket they were decided at (its lower bound) and whether they paid off")
                 .Register(*registry);
  const prometheus::Histogram::BucketBoundaries dollars{-100, -10, -1, -0.1, 0,
                                                        0.1,  1,   10, 100,  1000};
  predicted_saving_ = &prometheus::BuildHistogram()
                           .Name("shadowplane_planner_predicted_saving_dollars")
                           .Help(
                               "Planner-started migrations judged: the saving their decision "
                               "expected over the planning horizon")
                           .Register(*registry)
                           .Add({}, dollars);
  realized_saving_ = &prometheus::BuildHistogram()
                          .Name("shadowplane_planner_realized_saving_dollars")
                          .Help(
                              "Planner-started migrations judged: the saving realised over the "
                              "observed window (negative: the move cost more than it saved)")
                          .Register(*registry)
                          .Add({}, dollars);
}

void Migrator::CountTransition(store::MigrationState to) {
  if (transitions_ != nullptr) transitions_->Add({{"to", store::StateName(to)}}).Increment();
}

absl::StatusOr<Migrator::Context> Migrator::Load(const store::MigrationRecord& m) {
  Context c;
  ASSIGN_OR_RETURN(c.reservation, reservations_->GetByResource(m.resource_id));
  ASSIGN_OR_RETURN(c.instances, reservations_->Instances(m.resource_id));
  if (const auto* s = c.Find(m.source_instance_id)) c.source = *s;
  if (const auto* t = c.Find(m.target_instance_id)) c.target = *t;
  return c;
}

absl::StatusOr<StepResult> Migrator::MoveTo(const store::MigrationRecord& m,
                                            store::MigrationState to,
                                            const std::string& detail_json,
                                            const std::string& owner) {
  store::MigrationChange change;
  change.detail_json = detail_json;
  store::MigrationProgress progress = m.progress;
  progress.attempts = 0;
  progress.next_attempt_at.reset();
  progress.last_error.clear();
  change.progress = progress;
  RETURN_IF_ERROR(migrations_->Transition(m.id, m.state, to, change, clock_->Now(), owner));
  return Entered(m, to, detail_json);
}

absl::StatusOr<StepResult> Migrator::Entered(const store::MigrationRecord& m,
                                             store::MigrationState to,
                                             const std::string& detail_json) {
  FaultPoint(absl::StrCat("migration.entered.", store::StateName(to)));
  CountTransition(to);
  LOG_EVENT(kInfo, "migration moved")
      .Field("migration_id", m.id)
      .Field("resource_id", m.resource_id)
      .Field("from", store::StateName(m.state))
      .Field("to", store::StateName(to))
      .Field("detail", detail_json);
  ASSIGN_OR_RETURN(store::MigrationRecord now, migrations_->Get(m.id));
  return StepResult{now, absl::ZeroDuration()};
}

absl::StatusOr<StepResult> Migrator::Step(const store::MigrationRecord& m,
                                          const std::string& owner) {
  const store::MigrationState state = m.state;
  if (store::IsFinal(state)) return StepResult{m, absl::InfiniteDuration()};
  // A cancellation is honoured while the source still has the traffic.
  if (m.cancel_requested && store::CanRollBack(state) && !m.progress.switched_at.has_value()) {
    if (state == store::MigrationState::kCutover) {
      if (auto c = Load(m); c.ok()) Unfreeze(*c);
    }
    return MoveTo(m, store::MigrationState::kRollingBack, Json({{"cause", Quote("cancelled")}}),
                  owner);
  }
  const absl::Time started = absl::Now();
  absl::StatusOr<StepResult> result;
  switch (state) {
    case store::MigrationState::kPlanned:
      result = Plan(m, owner);
      break;
    case store::MigrationState::kPreparingTarget:
      result = PrepareTarget(m, owner);
      break;
    case store::MigrationState::kPrecopy:
      result = Precopy(m, owner);
      break;
    case store::MigrationState::kCutover:
      result = Cutover(m, owner);
      break;
    case store::MigrationState::kRetiringSource:
      result = RetireSource(m, owner);
      break;
    case store::MigrationState::kObserving:
      result = Observe(m, owner);
      break;
    case store::MigrationState::kRollingBack:
      result = RollBack(m, owner);
      break;
    case store::MigrationState::kPromoting:
      result = Promote(m, owner);
      break;
    default:
      return StepResult{m, absl::InfiniteDuration()};
  }
  if (step_seconds_ != nullptr) {
    step_seconds_
        ->Add({{"state", store::StateName(m.state)}},
              prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300})
        .Observe(absl::ToDoubleSeconds(absl::Now() - started));
  }
  return result;
}

absl::Duration Migrator::HoldFor(const store::MigrationRecord& m) {
  if (options_.freeze_hold > absl::ZeroDuration()) return options_.freeze_hold;
  FreezeModel model = DefaultFreezeModel();
  if (auto stored = freeze_model_->Current(); stored.ok()) model = *stored;
  const int64_t bytes = m.progress.bytes_left.value_or(0);
  const double high = model.High(bytes, std::max<int64_t>(1, bytes / (64 << 10)));
  return std::clamp(absl::Seconds(2 * high), absl::Seconds(5), absl::Seconds(60));
}

void Migrator::RestoreTraffic(const store::MigrationRecord& m, const std::string& service) {
  // The service points where it should either way; only its TTL stays short when this fails.
  if (absl::Status restored = traffic_->Restore(service); !restored.ok()) {
    LOG_EVENT(kWarning, "traffic settings not restored after a migration")
        .Field("migration_id", m.id)
        .Field("service", service)
        .Field("error", restored);
  }
}

absl::Status Migrator::Deactivate(const store::InstanceRecord& i) {
  auto gone = compute_->DeactivateInstance(i.location, i.id, /*delete_data=*/true);
  if (gone.ok() || absl::IsNotFound(gone.status())) {
    return reservations_->SetInstance(i.id, "stopped", i.endpoint, clock_->Now());
  }
  if (!absl::IsUnavailable(gone.status()) && !absl::IsDeadlineExceeded(gone.status())) {
    return gone.status();
  }
  // Its location cannot be reached: recorded as failed, the orphan reaper stops it when the
  // location is back (it stops every instance the database does not record as live).
  LOG_EVENT(kWarning, "instance left to the orphan reaper")
      .Field("instance_id", i.id)
      .Field("location", i.location)
      .Field("error", gone.status());
  return reservations_->SetInstance(i.id, "failed", i.endpoint, clock_->Now());
}

void Migrator::Unfreeze(const Context& c) {
  if (!c.target.id.empty() && c.target.id != c.reservation.primary.id) {
    (void)compute_->SetReadOnly(c.target.location, c.target.id, true);
    (void)reservations_->SetInstanceReadOnly(c.target.id, true, clock_->Now());
  }
  if (!c.source.id.empty()) {
    // If the target was granted writes, the source's epoch is superseded: it takes writes again
    // only under a new grant. Failing that, it stays fenced and the retry (or the rollback)
    // grants it again.
    if (auto restored = writes_->Restore(c.source); !restored.ok()) {
      LOG_EVENT(kWarning, "source not granted writes again")
          .Field("instance_id", c.source.id)
          .Field("error", restored.status());
    }
    (void)compute_->SetWriteRouting(c.source.location, c.source.id, providers::WriteRouting{});
  }
}

absl::Status Migrator::ForwardFromSource(const Context& c) {
  // Read-only and forwarding in one step (see WriteRouting::forward_writes_to).
  providers::WriteRouting forward;
  forward.forward_writes_to = c.target.endpoint;
  forward.forward_secret = c.reservation.forward_secret;
  return compute_->SetWriteRouting(c.source.location, c.source.id, forward).status();
}

std::string Migrator::KeepAsShadow(const Context& c) {
  // The old primary is freshest (identical at the cutover): it stays unless it breaks the
  // diversity rule while the old shadow keeps it.
  const store::InstanceRecord& shadow = c.reservation.shadow;
  if (shadow.id.empty() || shadow.id == c.target.id || !store::IsLive(shadow)) return "";
  auto diverse = [&](const store::InstanceRecord& i) {
    if (i.region == c.target.region) return false;
    auto a = locations_->GetLocation(i.location);
    auto b = locations_->GetLocation(c.target.location);
    if (!a.ok() || !b.ok()) return true;
    return geo::GreatCircleKm({a->latitude, a->longitude}, {b->latitude, b->longitude}) >=
           options_.min_shadow_distance_km;
  };
  if (!diverse(c.source) && diverse(shadow)) return shadow.id;
  return "";
}

absl::Status Migrator::GiveUp(const store::MigrationRecord& m, const absl::Status& why,
                              const std::string& owner) {
  if (store::IsFinal(m.state)) return absl::OkStatus();
  const bool can_roll_back = store::CanRollBack(m.state) && !m.progress.switched_at.has_value();
  const store::MigrationState next =
      can_roll_back ? store::MigrationState::kRollingBack : store::MigrationState::kFailed;
  if (m.state == store::MigrationState::kCutover && can_roll_back) {
    ASSIGN_OR_RETURN(Context c, Load(m));
    if (m.progress.switch_requested_at.has_value()) {
      // Traffic may be at the target: send it back before the source takes writes again, or
      // stay (the driver asks again) while the traffic server cannot be reached.
      ASSIGN_OR_RETURN(providers::Endpoint from,
                       providers::ParseEndpoint(c.source.endpoint, "source"));
      ASSIGN_OR_RETURN(providers::Endpoint to,
                       providers::ParseEndpoint(c.target.endpoint, "target"));
      RETURN_IF_ERROR(traffic_->Switch(c.reservation.service_name, to, from, /*urgent=*/true));
    }
    Unfreeze(c);
  }
  store::MigrationChange change;
  change.error = why.ToString();
  change.progress = m.progress;
  change.progress->attempts = 0;
  change.progress->next_attempt_at.reset();
  change.detail_json = Json({{"error", Quote(why.ToString())}});
  RETURN_IF_ERROR(migrations_->Transition(m.id, m.state, next, change, clock_->Now(), owner));
  FaultPoint(absl::StrCat("migration.entered.", store::StateName(next)));
  CountTransition(next);
  LOG_EVENT(kWarning, "migration gave up")
      .Field("migration_id", m.id)
      .Field("from", store::StateName(m.state))
      .Field("to", store::StateName(next))
      .Field("error", why);
  return absl::OkStatus();
}

}  // namespace shadowplane::migration
