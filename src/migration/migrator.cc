#include "migration/migrator.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/fault_point.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "migration/migration_state.h"
#include "planner/placement.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace shadowplane::migration {

namespace {

constexpr absl::Duration kSlotPoll = absl::Seconds(1);
constexpr absl::Duration kObservePoll = absl::Minutes(1);

bool Live(const store::InstanceRecord& i) { return i.state != "stopped" && i.state != "failed"; }

std::string Quote(const std::string& s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

// {"k": v, ...} from already-encoded values.
std::string Json(std::initializer_list<std::pair<const char*, std::string>> fields) {
  std::string out = "{";
  for (const auto& [key, value] : fields) {
    if (out.size() > 1) out += ", ";
    absl::StrAppend(&out, Quote(key), ": ", value);
  }
  return out + "}";
}

absl::Time HourFloor(absl::Time t) {
  return absl::FromUnixSeconds(absl::ToUnixSeconds(t) / 3600 * 3600);
}

// The share of hour [h, h+1h) that lies inside [from, to).
double Overlap(absl::Time h, absl::Time from, absl::Time to) {
  const absl::Time start = std::max(h, from), end = std::min(h + absl::Hours(1), to);
  return end <= start ? 0 : (end - start) / absl::Hours(1);
}

// A migration's round as the sync round it ran.
store::MigrationRoundRecord RoundOf(const store::SyncRunRecord& run, int number, const char* kind) {
  store::MigrationRoundRecord round;
  round.round = number;
  round.kind = kind;
  round.at = run.started_at;
  round.files_transferred = run.files_transferred;
  round.bytes_literal = run.bytes_literal;
  round.bytes_wire = run.bytes_wire;
  round.dirty_files = run.dirty_files;
  round.dirty_bytes = run.dirty_bytes;
  round.duration_seconds = run.duration_seconds;
  return round;
}

}  // namespace

struct Migrator::Context {
  store::ReservationRecord reservation;
  std::vector<store::InstanceRecord> instances;
  store::InstanceRecord source;
  store::InstanceRecord target;  // empty id: not chosen yet

  const store::InstanceRecord* Find(const std::string& id) const {
    for (const auto& i : instances) {
      if (i.id == id) return &i;
    }
    return nullptr;
  }
};

Migrator::Migrator(store::MigrationRepository* migrations,
                   store::ReservationRepository* reservations, store::LocationRepository* locations,
                   store::ForecastRepository* forecasts, store::TelemetryRepository* telemetry,
                   providers::ComputeProvider* compute, shadow::ShadowSyncer* syncer,
                   providers::TrafficProvider* traffic, traffic::TrafficSwitcher* switcher,
                   FreezeModelKeeper* freeze_model, const Clock* clock, MigratorOptions options,
                   prometheus::Registry* registry)
    : migrations_(migrations),
      reservations_(reservations),
      locations_(locations),
      forecasts_(forecasts),
      telemetry_(telemetry),
      compute_(compute),
      syncer_(syncer),
      traffic_(traffic),
      switcher_(switcher),
      freeze_model_(freeze_model),
      clock_(clock),
      options_(std::move(options)) {
  if (registry == nullptr) return;
  transitions_ = &prometheus::BuildCounter()
                      .Name("shadowplane_migration_transitions_total")
                      .Help("Migration state changes, by the state entered.")
                      .Register(*registry);
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
}

void Migrator::CountTransition(const std::string& to) {
  if (transitions_ != nullptr) transitions_->Add({{"to", to}}).Increment();
}

absl::StatusOr<Migrator::Context> Migrator::Load(const store::MigrationRecord& m) {
  Context c;
  ASSIGN_OR_RETURN(c.reservation, reservations_->GetByResource(m.resource_id));
  ASSIGN_OR_RETURN(c.instances, reservations_->Instances(m.resource_id));
  if (const auto* s = c.Find(m.source_instance_id)) c.source = *s;
  if (const auto* t = c.Find(m.target_instance_id)) c.target = *t;
  return c;
}

absl::StatusOr<StepResult> Migrator::MoveTo(const store::MigrationRecord& m, const std::string& to,
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

absl::StatusOr<StepResult> Migrator::Entered(const store::MigrationRecord& m, const std::string& to,
                                             const std::string& detail_json) {
  FaultPoint(absl::StrCat("migration.entered.", to));
  CountTransition(to);
  LOG_EVENT(kInfo, "migration moved")
      .Field("migration_id", m.id)
      .Field("resource_id", m.resource_id)
      .Field("from", m.state)
      .Field("to", to)
      .Field("detail", detail_json);
  ASSIGN_OR_RETURN(store::MigrationRecord now, migrations_->Get(m.id));
  return StepResult{now, absl::ZeroDuration()};
}

absl::StatusOr<StepResult> Migrator::Step(const store::MigrationRecord& m,
                                          const std::string& owner) {
  const std::optional<MigrationState> state = ParseState(m.state);
  if (!state.has_value()) {
    return absl::DataLossError(absl::StrCat("migration ", m.id, " is in unknown state ", m.state));
  }
  if (IsFinal(*state)) return StepResult{m, absl::InfiniteDuration()};
  // A cancellation is honoured while the source still has the traffic.
  if (m.cancel_requested && CanRollBack(*state) && !m.progress.switched_at.has_value()) {
    if (*state == MigrationState::kCutover) {
      if (auto c = Load(m); c.ok()) Unfreeze(*c);
    }
    return MoveTo(m, StateName(MigrationState::kRollingBack), Json({{"cause", Quote("cancelled")}}),
                  owner);
  }
  const absl::Time started = absl::Now();
  absl::StatusOr<StepResult> result;
  switch (*state) {
    case MigrationState::kPlanned:
      result = Plan(m, owner);
      break;
    case MigrationState::kPreparingTarget:
      result = PrepareTarget(m, owner);
      break;
    case MigrationState::kPrecopy:
      result = Precopy(m, owner);
      break;
    case MigrationState::kCutover:
      result = Cutover(m, owner);
      break;
    case MigrationState::kRetiringSource:
      result = RetireSource(m, owner);
      break;
    case MigrationState::kObserving:
      result = Observe(m, owner);
      break;
    case MigrationState::kRollingBack:
      result = RollBack(m, owner);
      break;
    case MigrationState::kPromoting:
      result = Promote(m, owner);
      break;
    default:
      return StepResult{m, absl::InfiniteDuration()};
  }
  if (step_seconds_ != nullptr) {
    step_seconds_
        ->Add({{"state", m.state}},
              prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300})
        .Observe(absl::ToDoubleSeconds(absl::Now() - started));
  }
  return result;
}

absl::StatusOr<StepResult> Migrator::Plan(const store::MigrationRecord& m,
                                          const std::string& owner) {
  // What the observation will compare with: the newest forecast per region, from now on (kept as
  // first recorded when this step runs again).
  auto forecasts = forecasts_->Latest(m.resource_id);
  if (forecasts.ok()) {
    std::vector<store::MigrationObservationRecord> rows;
    const absl::Time from = HourFloor(clock_->Now());
    for (const store::ForecastRecord& f : *forecasts) {
      if (f.origin_region == "total") continue;
      for (size_t i = 0; i < f.values.size(); ++i) {
        const absl::Time hour = f.first_hour + absl::Hours(static_cast<int64_t>(i));
        if (hour < from) continue;
        rows.push_back({f.origin_region, hour, std::max(0.0, f.values[i]), std::nullopt});
      }
    }
    RETURN_IF_ERROR(migrations_->RecordPredicted(m.id, rows));
  }
  store::MigrationProgress progress = m.progress;
  progress.attempts = 0;
  progress.next_attempt_at.reset();
  progress.last_error.clear();
  const std::string detail =
      Json({{"forecast_regions", absl::StrCat(forecasts.ok() ? forecasts->size() : 0)}});
  ASSIGN_OR_RETURN(bool started, migrations_->StartWithinLimits(
                                     m.id, options_.max_active, options_.max_active_per_location,
                                     progress, detail, clock_->Now(), owner));
  if (!started) return StepResult{m, kSlotPoll};  // queued behind the concurrency limits
  return Entered(m, StateName(MigrationState::kPreparingTarget), detail);
}

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
        r.shadow.capacity.type != type || !Live(r.shadow)) {
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
    ASSIGN_OR_RETURN(providers::InstanceInfo info, compute_->CreateInstance(spec));
    FaultPoint("migration.preparing_target.after_create");
    RETURN_IF_ERROR(reservations_->SetInstance(t.id, "running", info.endpoint, clock_->Now()));
  } else {
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
    next.progress.switch_not_before = clock_->Now() + wait;
  }
  return MoveTo(next, StateName(emergency ? MigrationState::kPromoting : MigrationState::kPrecopy),
                Json({{"target_instance_id", Quote(t.id)},
                      {"millicores", absl::StrCat(wanted.millicores)},
                      {"memory_mib", absl::StrCat(wanted.memory_mib)}}),
                owner);
}

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
  if (run.dirty_bytes <= options_.cutover_dirty_bytes ||
      round.round >= options_.max_precopy_rounds) {
    return MoveTo(next, StateName(MigrationState::kCutover),
                  Json({{"precopy_rounds", absl::StrCat(round.round)},
                        {"bytes_left", absl::StrCat(run.dirty_bytes)}}),
                  owner);
  }
  RETURN_IF_ERROR(migrations_->SaveProgress(m.id, m.state, next.progress, clock_->Now(), owner));
  ASSIGN_OR_RETURN(store::MigrationRecord saved, migrations_->Get(m.id));
  return StepResult{saved, absl::ZeroDuration()};
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
  if (!c.source.id.empty()) {
    (void)compute_->SetWriteRouting(c.source.location, c.source.id, providers::WriteRouting{});
  }
  if (!c.target.id.empty() && c.target.id != c.reservation.primary.id) {
    (void)compute_->SetReadOnly(c.target.location, c.target.id, true);
    (void)reservations_->SetInstanceReadOnly(c.target.id, true, clock_->Now());
  }
}

absl::Status Migrator::ForwardFromSource(const Context& c) {
  // Read-only and forwarding in one step (see WriteRouting::forward_writes_to).
  providers::WriteRouting forward;
  forward.forward_writes_to = c.target.endpoint;
  return compute_->SetWriteRouting(c.source.location, c.source.id, forward).status();
}

std::string Migrator::KeepAsShadow(const Context& c) {
  // The old primary is freshest (identical at the cutover): it stays unless it breaks the
  // diversity rule while the old shadow keeps it.
  const store::InstanceRecord& shadow = c.reservation.shadow;
  if (shadow.id.empty() || shadow.id == c.target.id || !Live(shadow)) return "";
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

absl::StatusOr<StepResult> Migrator::Cutover(const store::MigrationRecord& m,
                                             const std::string& owner) {
  ASSIGN_OR_RETURN(Context c, Load(m));
  const store::ReservationRecord& r = c.reservation;
  if (c.source.id.empty() || c.target.id.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("migration ", m.id, " lost its source or target instance"));
  }
  const bool steered = switcher_ != nullptr && traffic_ != nullptr && !r.traffic_provider.empty();
  ASSIGN_OR_RETURN(providers::Endpoint from, providers::ParseEndpoint(c.source.endpoint, "source"));
  ASSIGN_OR_RETURN(providers::Endpoint to, providers::ParseEndpoint(c.target.endpoint, "target"));
  store::MigrationRecord next = m;
  bool forwarding = false;  // the source forwards to the target (set by this run)
  // Resuming after a crash between asking for the switch and recording it: where traffic points
  // decides. At the target, the switch happened (and the target may already hold new writes, so
  // the final round must not run again); anywhere else, the cutover starts over.
  if (steered && m.progress.switch_requested_at.has_value() && !m.progress.switched_at) {
    ASSIGN_OR_RETURN(providers::Endpoint now_at, traffic_->Current(r.service_name));
    if (now_at.Matches(to)) {
      next.progress.switched_at = clock_->Now();
      RETURN_IF_ERROR(
          migrations_->SaveProgress(m.id, m.state, next.progress, clock_->Now(), owner));
    }
  }
  if (!next.progress.switched_at.has_value()) {
    if (m.progress.switch_not_before.has_value() && clock_->Now() < *m.progress.switch_not_before) {
      return StepResult{m, *m.progress.switch_not_before - clock_->Now()};  // caches still old
    }
    // The freeze: committed first, so a driver taking over knows writes may be held.
    next.progress.freeze_started_at = clock_->Now();
    next.progress.switch_requested_at.reset();
    RETURN_IF_ERROR(migrations_->SaveProgress(m.id, m.state, next.progress, clock_->Now(), owner));
    const absl::Time freeze = absl::Now();
    // Where the freeze's time goes, step by step (logged with the cutover).
    std::vector<std::pair<const char*, absl::Time>> marks;
    auto mark = [&marks](const char* step) { marks.emplace_back(step, absl::Now()); };
    bool switch_asked = false;
    std::optional<store::SyncRunRecord> final_run;
    absl::Status frozen = [&]() -> absl::Status {
      providers::WriteRouting hold;
      hold.hold_writes = true;
      hold.hold = HoldFor(m);
      RETURN_IF_ERROR(compute_->SetWriteRouting(c.source.location, c.source.id, hold).status());
      mark("hold");
      FaultPoint("migration.cutover.after_freeze");
      ASSIGN_OR_RETURN(shadow::SyncOutcome final_round,
                       syncer_->SyncInto(r.id, c.target.id, shadow::SyncTrigger::kFinal));
      mark("final_round");
      final_run = final_round.run;  // recorded once the freeze is over
      next.progress.final_dirty_bytes = final_run->bytes_literal;
      next.progress.final_dirty_files = final_run->files_transferred;
      FaultPoint("migration.cutover.after_final_round");
      RETURN_IF_ERROR(reservations_->SetInstanceReadOnly(c.target.id, false, clock_->Now()));
      RETURN_IF_ERROR(compute_->SetReadOnly(c.target.location, c.target.id, false).status());
      mark("target_writable");
      FaultPoint("migration.cutover.after_target_writable");
      if (steered) {
        next.progress.switch_requested_at = clock_->Now();
        RETURN_IF_ERROR(
            migrations_->SaveProgress(m.id, m.state, next.progress, clock_->Now(), owner));
        switch_asked = true;
        traffic::SwitchRequest request;
        request.resource_id = m.resource_id;
        request.service = r.service_name;
        request.from = from;
        request.to = to;
        request.reason = absl::StrCat("migration ", m.id);
        RETURN_IF_ERROR(switcher_->Switch(request).status());
        mark("switch");
        FaultPoint("migration.cutover.after_switch");
      }
      // Writes are applied again from here: the source passes on what it held, then every write
      // that still reaches it. Nothing else (saves, the model's refit) waits inside the freeze.
      RETURN_IF_ERROR(ForwardFromSource(c));
      mark("forwarding");
      forwarding = true;
      return absl::OkStatus();
    }();
    if (final_run.has_value()) {
      const absl::Status recorded = migrations_->RecordRound(
          m.id, RoundOf(*final_run, m.progress.precopy_rounds + 1, "final"));
      if (frozen.ok() && !recorded.ok()) {
        LOG_EVENT(kWarning, "final round not recorded")
            .Field("migration_id", m.id)
            .Field("error", recorded);
      }
    }
    if (!frozen.ok() && switch_asked) {
      // The switch may have happened though it reported an error: only where traffic points
      // says whether the source may take writes again.
      absl::StatusOr<providers::Endpoint> now_at = traffic_->Current(r.service_name);
      if (!now_at.ok()) return frozen;  // unknown: stay frozen; the retry asks again
      if (now_at->Matches(to)) frozen = absl::OkStatus();
    }
    if (!frozen.ok()) {
      Unfreeze(c);
      next.progress.freeze_started_at.reset();
      next.progress.switch_requested_at.reset();
      (void)migrations_->SaveProgress(m.id, m.state, next.progress, clock_->Now(), owner);
      return frozen;
    }
    // After a switch that reported an error but happened, the source is not forwarding yet.
    if (!forwarding) {
      RETURN_IF_ERROR(ForwardFromSource(c));
      forwarding = true;
    }
    next.progress.freeze_seconds = absl::ToDoubleSeconds(absl::Now() - freeze);
    std::string steps;
    absl::Time previous = freeze;
    for (const auto& [step, at] : marks) {
      absl::StrAppendFormat(&steps, "%s%s=%.1fms", steps.empty() ? "" : " ", step,
                            absl::ToDoubleMilliseconds(at - previous));
      previous = at;
    }
    // The point of no return: traffic is at the target.
    next.progress.switched_at = clock_->Now();
    RETURN_IF_ERROR(migrations_->SaveProgress(m.id, m.state, next.progress, clock_->Now(), owner));
    if (freeze_seconds_ != nullptr) freeze_seconds_->Observe(*next.progress.freeze_seconds);
    CutoverSample sample{next.progress.final_dirty_bytes.value_or(0),
                         next.progress.final_dirty_files.value_or(0),
                         *next.progress.freeze_seconds};
    if (auto refit = freeze_model_->Record(m.id, sample); !refit.ok()) {
      LOG_EVENT(kWarning, "freeze model not refitted").Field("error", refit.status());
    }
    LOG_EVENT(kInfo, "migration cut over")
        .Field("migration_id", m.id)
        .Field("freeze_seconds", *next.progress.freeze_seconds)
        .Field("final_bytes", sample.dirty_bytes)
        .Field("final_files", sample.dirty_files)
        .Field("freeze_steps", steps);
  }
  // From here on every action converges: the source read-only, forwarding to the target (done
  // above unless this resumes a cutover), and the roles recorded.
  if (!forwarding) RETURN_IF_ERROR(ForwardFromSource(c));
  FaultPoint("migration.cutover.after_source_forwarding");
  const std::string keep = KeepAsShadow(c);
  RETURN_IF_ERROR(reservations_->SwapRoles(m.resource_id, c.target.id, clock_->Now(), keep));
  FaultPoint("migration.cutover.after_swap");
  return MoveTo(
      next, StateName(MigrationState::kRetiringSource),
      Json({{"freeze_seconds", absl::StrFormat("%.6f", next.progress.freeze_seconds.value_or(0))},
            {"final_bytes", absl::StrCat(next.progress.final_dirty_bytes.value_or(0))},
            {"final_files", absl::StrCat(next.progress.final_dirty_files.value_or(0))},
            {"new_shadow", Quote(keep.empty() ? c.source.id : keep)},
            {"traffic_switched", steered ? "true" : "false"}}),
      owner);
}

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
  std::vector<std::string> retired;
  for (const store::InstanceRecord& i : c.instances) {
    if (!Live(i) || i.id == r.primary.id) continue;
    if (i.role == "shadow") {
      RETURN_IF_ERROR(compute_->SetWriteRouting(i.location, i.id, {}).status());
      RETURN_IF_ERROR(compute_->SetReadOnly(i.location, i.id, true).status());
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
  next.progress.observe_until = clock_->Now() + options_.observe_window;
  return MoveTo(next, StateName(MigrationState::kObserving),
                Json({{"retired", absl::StrCat("[", absl::StrJoin(retired, ", "), "]")},
                      {"shadow_millicores", absl::StrCat(shadow_capacity.millicores)}}),
                owner);
}

absl::StatusOr<StepResult> Migrator::Observe(const store::MigrationRecord& m,
                                             const std::string& owner) {
  const absl::Time now = clock_->Now();
  const absl::Time until = m.progress.observe_until.value_or(now);
  if (now < until) return StepResult{m, std::min(until - now, kObservePoll)};
  const absl::Time from = m.progress.switched_at.value_or(m.state_entered_at.value_or(now));
  ASSIGN_OR_RETURN(std::vector<store::DemandRow> demand,
                   telemetry_->Requests(m.resource_id, HourFloor(from), until));
  std::vector<store::MigrationObservationRecord> realized;
  std::map<std::string, double> by_region;  // in the window, hours prorated
  for (const store::DemandRow& d : demand) {
    realized.push_back(
        {d.origin_region, d.hour, std::nullopt, static_cast<double>(d.sums.requests)});
    by_region[d.origin_region] += d.sums.requests * Overlap(d.hour, from, until);
  }
  RETURN_IF_ERROR(migrations_->RecordRealized(m.id, realized));
  ASSIGN_OR_RETURN(std::vector<store::MigrationObservationRecord> rows,
                   migrations_->Observations(m.id));
  std::map<std::string, double> predicted;
  bool forecast = false;
  for (const auto& o : rows) {
    if (!o.predicted_requests.has_value()) continue;
    forecast = true;
    predicted[o.origin_region] += *o.predicted_requests * Overlap(o.hour, from, until);
  }
  store::MigrationRecord next = m;
  double abs_error = 0, actual = 0;
  for (const auto& [region, p] : predicted) abs_error += std::abs(by_region[region] - p);
  for (const auto& [region, a] : by_region) {
    actual += a;
    if (predicted.count(region) == 0) abs_error += a;
  }
  if (forecast && actual > 0) next.progress.forecast_wape = abs_error / actual;

  // Paid off: the realised demand is closer (demand-weighted RTT) to the new primary's location
  // than to the old one's.
  std::string note;
  ASSIGN_OR_RETURN(Context c, Load(m));
  auto old_at = locations_->GetLocation(c.source.location);
  auto new_at = locations_->GetLocation(c.target.location);
  if (actual > 0 && old_at.ok() && new_at.ok()) {
    double old_ms = 0, new_ms = 0, weight = 0;
    for (const auto& [region, a] : by_region) {
      auto where = locations_->GetRegion(region);
      if (!where.ok()) continue;
      const geo::Coordinates at{where->latitude, where->longitude};
      old_ms +=
          a * options_.rtt.RttMs(region, at, old_at->name, {old_at->latitude, old_at->longitude});
      new_ms +=
          a * options_.rtt.RttMs(region, at, new_at->name, {new_at->latitude, new_at->longitude});
      weight += a;
    }
    if (weight > 0) {
      next.progress.paid_off = new_ms < old_ms;
      note = absl::StrFormat("demand-weighted RTT %.1f ms at %s against %.1f ms at %s",
                             new_ms / weight, new_at->name, old_ms / weight, old_at->name);
    }
  }
  if (note.empty()) note = "no demand from known regions in the window";
  if (!forecast) absl::StrAppend(&note, "; no forecast when the migration started");
  next.progress.observation_note = note;
  return MoveTo(next, StateName(MigrationState::kDone),
                Json({{"paid_off", next.progress.paid_off.has_value()
                                       ? (*next.progress.paid_off ? "true" : "false")
                                       : "null"},
                      {"note", Quote(note)}}),
                owner);
}

absl::StatusOr<StepResult> Migrator::RollBack(const store::MigrationRecord& m,
                                              const std::string& owner) {
  ASSIGN_OR_RETURN(Context c, Load(m));
  const store::ReservationRecord& r = c.reservation;
  // The source, still the primary, serves writes itself again.
  if (!c.source.id.empty() && c.source.id == r.primary.id && Live(c.source)) {
    RETURN_IF_ERROR(
        compute_->SetWriteRouting(c.source.location, c.source.id, providers::WriteRouting{})
            .status());
    RETURN_IF_ERROR(compute_->SetReadOnly(c.source.location, c.source.id, false).status());
    FaultPoint("migration.rolling_back.after_source_restored");
  }
  if (!c.target.id.empty() && Live(c.target)) {
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
  return MoveTo(m, StateName(MigrationState::kRolledBack), Json({{"source_serving", "true"}}),
                owner);
}

absl::StatusOr<StepResult> Migrator::Promote(const store::MigrationRecord& m,
                                             const std::string& owner) {
  ASSIGN_OR_RETURN(Context c, Load(m));
  const store::ReservationRecord& r = c.reservation;
  if (c.target.id.empty() || !Live(c.target)) {
    return absl::FailedPreconditionError(
        absl::StrCat("migration ", m.id, " has no live shadow to promote"));
  }
  store::MigrationRecord next = m;
  if (!m.progress.switched_at.has_value()) {
    // Fence the old primary if it can be reached; if not, the reconcile loop fences it when it
    // returns (the database records it read-only from the swap on).
    if (!c.source.id.empty()) {
      if (auto fenced = compute_->SetReadOnly(c.source.location, c.source.id, true); !fenced.ok()) {
        LOG_EVENT(kWarning, "old primary not reachable to fence; fenced when it returns")
            .Field("migration_id", m.id)
            .Field("instance_id", c.source.id)
            .Field("error", fenced.status());
      }
    }
    const absl::Time synced = r.last_synced_at.value_or(r.created_at);
    next.progress.loss_window_seconds =
        std::max(0.0, absl::ToDoubleSeconds(clock_->Now() - synced));
    RETURN_IF_ERROR(reservations_->SetInstanceReadOnly(c.target.id, false, clock_->Now()));
    RETURN_IF_ERROR(compute_->SetReadOnly(c.target.location, c.target.id, false).status());
    FaultPoint("migration.promoting.after_target_writable");
    if (switcher_ != nullptr && traffic_ != nullptr && !r.traffic_provider.empty()) {
      ASSIGN_OR_RETURN(providers::Endpoint to,
                       providers::ParseEndpoint(c.target.endpoint, "target"));
      traffic::SwitchRequest request;
      request.resource_id = m.resource_id;
      request.service = r.service_name;
      request.to = to;
      request.urgent = true;
      request.reason = absl::StrCat("emergency promotion ", m.id);
      auto from = providers::ParseEndpoint(c.source.endpoint, "source");
      request.from = from.ok() ? *from : to;
      RETURN_IF_ERROR(switcher_->Switch(request).status());
      FaultPoint("migration.promoting.after_switch");
    }
    next.progress.switched_at = clock_->Now();
    RETURN_IF_ERROR(migrations_->SaveProgress(m.id, m.state, next.progress, clock_->Now(), owner));
    if (loss_window_seconds_ != nullptr) {
      loss_window_seconds_->Observe(*next.progress.loss_window_seconds);
    }
  }
  RETURN_IF_ERROR(reservations_->SwapRoles(m.resource_id, c.target.id, clock_->Now()));
  next.progress.observe_until = clock_->Now() + options_.observe_window;
  return MoveTo(next, StateName(MigrationState::kObserving),
                Json({{"loss_window_seconds",
                       absl::StrFormat("%.3f", next.progress.loss_window_seconds.value_or(0))},
                      {"promoted", Quote(c.target.id)}}),
                owner);
}

absl::Status Migrator::GiveUp(const store::MigrationRecord& m, const absl::Status& why,
                              const std::string& owner) {
  const std::optional<MigrationState> state = ParseState(m.state);
  if (!state.has_value() || IsFinal(*state)) return absl::OkStatus();
  const bool can_roll_back = CanRollBack(*state) && !m.progress.switched_at.has_value();
  const std::string to =
      StateName(can_roll_back ? MigrationState::kRollingBack : MigrationState::kFailed);
  if (*state == MigrationState::kCutover && can_roll_back) {
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
  RETURN_IF_ERROR(migrations_->Transition(m.id, m.state, to, change, clock_->Now(), owner));
  FaultPoint(absl::StrCat("migration.entered.", to));
  CountTransition(to);
  LOG_EVENT(kWarning, "migration gave up")
      .Field("migration_id", m.id)
      .Field("from", m.state)
      .Field("to", to)
      .Field("error", why);
  return absl::OkStatus();
}

}  // namespace shadowplane::migration
