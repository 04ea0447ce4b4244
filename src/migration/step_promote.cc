// The migration step PROMOTING: an emergency: the shadow made the primary without a final round
// from the source.
#include "migration/migrator_internal.h"

namespace shadowplane::migration {

absl::StatusOr<StepResult> Migrator::Promote(const store::MigrationRecord& m,
                                             const std::string& owner) {
  ASSIGN_OR_RETURN(Context c, Load(m));
  const store::ReservationRecord& r = c.reservation;
  if (c.target.id.empty() || !store::IsLive(c.target)) {
    return absl::FailedPreconditionError(
        absl::StrCat("migration ", m.id, " has no live shadow to promote"));
  }
  store::MigrationRecord next = m;
  if (!m.progress.switched_at.has_value()) {
    // At no moment may two instances of the resource take writes. An old primary whose recorded
    // lease has run out refuses writes by itself already (the record never ends before the
    // instance's own lease), and the new epoch granted below keeps it from ever renewing: it is
    // not called, so a partitioned or stopped agent cannot hold the promotion up. One whose lease
    // still holds is fenced where it can be reached (read-only, confirmed by its agent); where
    // it cannot, its lease is waited out. Its agent fences it when it returns.
    if (!c.source.id.empty()) {
      ASSIGN_OR_RETURN(store::InstanceLease lease, writes_->Lease(c.source.id));
      if (lease.held()) {
        if (auto fenced = compute_->SetReadOnly(c.source.location, c.source.id, true);
            !fenced.ok()) {
          ASSIGN_OR_RETURN(lease, writes_->Lease(c.source.id));
          if (lease.held()) {
            const absl::Duration left = *lease.expires_at - lease.database_now;
            LOG_EVENT(kWarning, "old primary unreachable: waiting out its write lease")
                .Field("migration_id", m.id)
                .Field("instance_id", c.source.id)
                .Field("lease_left_seconds", left)
                .Field("error", fenced.status());
            return StepResult{m, left + absl::Milliseconds(50)};
          }
          LOG_EVENT(kWarning, "old primary unreachable, its write lease expired")
              .Field("migration_id", m.id)
              .Field("instance_id", c.source.id)
              .Field("error", fenced.status());
        }
      } else {
        LOG_EVENT(kInfo, "old primary's write lease ran out: it takes no writes")
            .Field("migration_id", m.id)
            .Field("instance_id", c.source.id);
      }
    }
    const absl::Time synced = r.last_synced_at.value_or(r.created_at);
    next.progress.loss_window_seconds =
        std::max(0.0, absl::ToDoubleSeconds(clock_->Now() - synced));
    // A new epoch, unless an earlier try of this step (or a failed failover before it) granted
    // the target the current one already: retries do not move the epoch on.
    ASSIGN_OR_RETURN(store::InstanceLease target_lease, writes_->Lease(c.target.id));
    const bool holds_current =
        target_lease.write_epoch > 0 && target_lease.write_epoch == target_lease.primary_epoch;
    RETURN_IF_ERROR(writes_->Grant(c.target, /*new_epoch=*/!holds_current).status());
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
  return MoveTo(next, store::MigrationState::kObserving,
                Json({{"loss_window_seconds",
                       absl::StrFormat("%.3f", next.progress.loss_window_seconds.value_or(0))},
                      {"promoted", Quote(c.target.id)}}),
                owner);
}

}  // namespace shadowplane::migration
