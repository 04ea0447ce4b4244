// The migration step CUTOVER: the write freeze, the final round, the target writable, the traffic
// switch and the source forwarding; then the roles swapped.
#include "migration/migrator_internal.h"

namespace shadowplane::migration {

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
    // A crashed attempt may have granted the target writes (a new epoch) before traffic moved.
    // The source, frozen since, is then in the older epoch, and sync refuses to write from it
    // into the target. That grant is undone as a failed attempt undoes it (see Unfreeze): the
    // target read-only again (no client reached it: traffic never moved), the source granted
    // writes again in a newer epoch; then the cutover starts over.
    ASSIGN_OR_RETURN(store::InstanceLease target_lease, writes_->Lease(c.target.id));
    if (target_lease.write_epoch > 0 && target_lease.write_epoch == target_lease.primary_epoch) {
      LOG_EVENT(kWarning, "undoing a crashed cutover's grant to the target before starting over")
          .Field("migration_id", m.id)
          .Field("target_instance_id", c.target.id)
          .Field("epoch", target_lease.write_epoch);
      RETURN_IF_ERROR(compute_->SetReadOnly(c.target.location, c.target.id, true).status());
      RETURN_IF_ERROR(reservations_->SetInstanceReadOnly(c.target.id, true, clock_->Now()));
      RETURN_IF_ERROR(writes_->Restore(c.source).status());
    }
    // The freeze: committed first, so a driver taking over knows writes may be held.
    next.progress.freeze_started_at = clock_->Now();
    next.progress.freeze_started_wall = absl::Now();
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
      // A new epoch: from here the source's lease cannot be renewed, whatever it does.
      RETURN_IF_ERROR(writes_->Grant(c.target, /*new_epoch=*/true).status());
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
        request.urgent = m.urgent;
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
      next.progress.freeze_started_wall.reset();
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
      next, store::MigrationState::kRetiringSource,
      Json({{"freeze_seconds", absl::StrFormat("%.6f", next.progress.freeze_seconds.value_or(0))},
            {"final_bytes", absl::StrCat(next.progress.final_dirty_bytes.value_or(0))},
            {"final_files", absl::StrCat(next.progress.final_dirty_files.value_or(0))},
            {"new_shadow", Quote(keep.empty() ? c.source.id : keep)},
            {"traffic_switched", steered ? "true" : "false"}}),
      owner);
}

}  // namespace shadowplane::migration
