#include "migration/primary_loss_detector.h"

#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "providers/instance_probe.h"

namespace shadowplane::migration {
namespace {

// Failovers tried per primary and epoch before the loss is left to a person.
constexpr int kMaxAttempts = 5;

bool Running(const absl::StatusOr<providers::InstanceInfo>& info) {
  return info.ok() && (info->state == providers::InstanceRunState::kRunning ||
                       info->state == providers::InstanceRunState::kStarting);
}

}  // namespace

const char* LossCauseName(LossCause cause) {
  switch (cause) {
    case LossCause::kLocationLost:
      return "location_lost";
    case LossCause::kInstanceDown:
      return "instance_down";
    case LossCause::kPartitioned:
      return "partitioned";
    case LossCause::kAgentSilent:
      return "agent_silent";
  }
  return "unknown";
}

PrimaryLossDetector::PrimaryLossDetector(store::WriteLeaseRepository* leases,
                                         store::ReservationRepository* reservations,
                                         providers::ComputeProvider* compute,
                                         MigrationManager* migrations, PrimaryLossOptions options,
                                         prometheus::Registry* registry)
    : leases_(leases),
      reservations_(reservations),
      compute_(compute),
      migrations_(migrations),
      options_(options) {
  if (registry == nullptr) return;
  losses_ = &prometheus::BuildCounter()
                 .Name("shadowplane_primary_losses_total")
                 .Help(
                     "Passes that found a primary lost (its write lease unrenewed past "
                     "--primary_loss_timeout), by what the probes found")
                 .Register(*registry);
  // Every cause from the start, at 0, so that an alert on losses has a series to read.
  for (LossCause cause : {LossCause::kLocationLost, LossCause::kInstanceDown,
                          LossCause::kPartitioned, LossCause::kAgentSilent}) {
    losses_->Add({{"cause", LossCauseName(cause)}});
  }
  started_ = &prometheus::BuildCounter()
                  .Name("shadowplane_failovers_started_total")
                  .Help("Emergency promotions asked for a lost primary, by cause")
                  .Register(*registry);
  blocked_ = &prometheus::BuildCounter()
                  .Name("shadowplane_failovers_blocked_total")
                  .Help("Lost primaries that could not fail over on a pass, by reason")
                  .Register(*registry);
}

LossCause PrimaryLossDetector::Probe(const store::InstanceLease& lost) {
  const bool instance = providers::InstanceAnswers(lost.endpoint, options_.probe_timeout);
  if (instance) return LossCause::kPartitioned;
  const auto agent = compute_->DescribeInstance(lost.location, lost.instance_id);
  if (!agent.ok() &&
      (absl::IsUnavailable(agent.status()) || absl::IsDeadlineExceeded(agent.status()))) {
    return LossCause::kLocationLost;
  }
  return Running(agent) ? LossCause::kAgentSilent : LossCause::kInstanceDown;
}

absl::StatusOr<int> PrimaryLossDetector::RunOnce() {
  absl::StatusOr<std::vector<store::InstanceLease>> silent =
      leases_->Silent(options_.loss_timeout, options_.batch);
  if (!silent.ok()) return silent.status();
  int started = 0;
  // Forget primaries no longer lost: a loss is reported once, a block once per reason.
  std::map<std::string, std::string> seen;
  std::set<std::string> reported;
  for (const store::InstanceLease& lost : *silent) {
    if (auto it = blocked_reason_.find(lost.instance_id); it != blocked_reason_.end()) {
      seen.insert(*it);
    }
    if (reported_.count(lost.instance_id) != 0) reported.insert(lost.instance_id);
  }
  blocked_reason_ = std::move(seen);
  reported_ = std::move(reported);
  for (const store::InstanceLease& lost : *silent) {
    if (lost.held()) continue;  // cannot be, as the timeout is at least the lease; never promote
    // One failover per primary and epoch, however many passes see it; one that ended without
    // promoting (failed, rolled back) is followed by another attempt, "-2", "-3"..., up to
    // kMaxAttempts per epoch. The resource's epoch, not the instance's: a failed promotion that
    // granted the shadow moved it on.
    const std::string base = absl::StrCat("failover-", lost.instance_id, "-", lost.primary_epoch);
    if (lost.migrating == base || absl::StartsWith(lost.migrating, base + "-")) {
      continue;  // failing over already
    }
    auto blocked = [&](const char* reason, const absl::Status& why) {
      if (blocked_ != nullptr) blocked_->Add({{"reason", reason}}).Increment();
      // Logged when the reason changes, not on every pass (a planned move may hold the resource
      // for minutes); the metric counts every pass.
      std::string& last = blocked_reason_[lost.instance_id];
      if (last == reason) return;
      last = reason;
      LOG_EVENT(kError, "lost primary cannot fail over")
          .Field("reservation_id", lost.reservation_id)
          .Field("instance_id", lost.instance_id)
          .Field("location", lost.location)
          .Field("reason", reason)
          .Field("error", why);
    };
    const LossCause cause = Probe(lost);
    const absl::Duration silent_for =
        lost.database_now - lost.renewed_at.value_or(lost.database_now);
    if (reported_.insert(lost.instance_id).second) {
      if (losses_ != nullptr) losses_->Add({{"cause", LossCauseName(cause)}}).Increment();
      LOG_EVENT(kError, "primary lost")
          .Field("reservation_id", lost.reservation_id)
          .Field("instance_id", lost.instance_id)
          .Field("location", lost.location)
          .Field("epoch", lost.write_epoch)
          .Field("cause", LossCauseName(cause))
          .Field("lease_unrenewed_seconds", silent_for);
    }
    if (!options_.auto_failover) {
      blocked("auto_failover_off", absl::OkStatus());
      continue;
    }
    auto reservation = reservations_->Get(lost.reservation_id);
    if (!reservation.ok()) {
      blocked("reservation_unreadable", reservation.status());
      continue;
    }
    const store::InstanceRecord& shadow = reservation->shadow;
    if (shadow.id.empty() || shadow.state != "running" ||
        !Running(compute_->DescribeInstance(shadow.location, shadow.id))) {
      blocked("no_healthy_shadow",
              absl::FailedPreconditionError(
                  absl::StrCat("shadow ", shadow.id, " at ", shadow.location, " is not running")));
      continue;
    }
    if (!reservation->last_synced_at.has_value()) {
      // A shadow that never completed a round holds the seed, not the resource's data (a shadow
      // just rebuilt after its location was lost): promoting it would bring old data back as if
      // it were current. A person decides (Migrate{kind: emergency}).
      blocked("shadow_never_synced",
              absl::FailedPreconditionError(absl::StrCat(
                  "shadow ", shadow.id, " has not completed a sync round since it was created")));
      continue;
    }
    if (!lost.migrating.empty()) {
      // A move in progress holds the resource; it fails or rolls back after its step deadline,
      // and the next pass fails over.
      blocked("migrating", absl::FailedPreconditionError(
                               absl::StrCat("migration ", lost.migrating, " holds the resource")));
      continue;
    }
    MigrateSpec spec;
    spec.reservation_id = lost.reservation_id;
    spec.kind = "emergency";
    spec.reason = absl::StrCat("primary lost (", LossCauseName(cause), "): write lease unrenewed ",
                               absl::FormatDuration(absl::Trunc(silent_for, absl::Seconds(1))),
                               " at ", lost.location);
    absl::StatusOr<store::MigrationRecord> m = absl::UnknownError("no attempt");
    bool ended = false;  // every attempt so far ended without promoting
    for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
      spec.request_id = attempt == 1 ? base : absl::StrCat(base, "-", attempt);
      m = migrations_->Migrate(spec);  // idempotent: an earlier attempt is read back
      ended = m.ok() && store::IsFinal(m->state) && m->state != store::MigrationState::kDone;
      if (!ended) break;
    }
    if (!m.ok()) {
      blocked(absl::IsFailedPrecondition(m.status()) ? "not_now" : "error", m.status());
      continue;
    }
    if (ended) {
      blocked("attempts_exhausted",
              absl::FailedPreconditionError(absl::StrCat(
                  kMaxAttempts,
                  " failovers of this epoch ended without promoting; the last: ", m->error)));
      continue;
    }
    if (started_ != nullptr) started_->Add({{"cause", LossCauseName(cause)}}).Increment();
    blocked_reason_.erase(lost.instance_id);
    ++started;
    LOG_EVENT(kWarning, "failover started")
        .Field("reservation_id", lost.reservation_id)
        .Field("migration_id", m->id)
        .Field("from", lost.location)
        .Field("to", shadow.location)
        .Field("cause", LossCauseName(cause));
  }
  return started;
}

}  // namespace shadowplane::migration
