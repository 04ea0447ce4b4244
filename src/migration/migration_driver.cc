#include "migration/migration_driver.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/fault_point.h"
#include "common/log.h"
#include "common/retriable.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "store/migration_state.h"

namespace shadowplane::migration {

namespace {
constexpr absl::Duration kMaxSleep = absl::Milliseconds(500);  // re-reads for cancellation
}

MigrationDriver::MigrationDriver(store::MigrationRepository* migrations, MigrationStepper* migrator,
                                 MigrationDriverOptions options, prometheus::Registry* registry)
    : migrations_(migrations), migrator_(migrator), options_(std::move(options)) {
  if (registry == nullptr) return;
  by_state_ = &prometheus::BuildGauge()
                   .Name("shadowplane_migrations")
                   .Help("Migrations by state (all replicas; refreshed by each).")
                   .Register(*registry);
  retries_ = &prometheus::BuildCounter()
                  .Name("shadowplane_migration_step_retries_total")
                  .Help("Migration steps that failed with a retriable error, by state.")
                  .Register(*registry);
  leases_lost_ = &prometheus::BuildCounter()
                      .Name("shadowplane_migration_leases_lost_total")
                      .Help("Migrations this server stopped driving because another took over.")
                      .Register(*registry)
                      .Add({});
}

MigrationDriver::~MigrationDriver() { Stop(); }

void MigrationDriver::Start() {
  absl::MutexLock lock(&mu_);
  if (loop_.joinable() || stopping_) return;
  loop_ = std::thread([this] { Loop(); });
}

void MigrationDriver::Stop() {
  std::map<std::string, std::thread> runners;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && !loop_.joinable() && runners_.empty()) return;
    stopping_ = true;
  }
  if (loop_.joinable()) loop_.join();
  {
    absl::MutexLock lock(&mu_);
    runners.swap(runners_);
  }
  for (auto& [id, thread] : runners) {
    thread.join();
    (void)migrations_->Release(id, options_.owner);
  }
}

void MigrationDriver::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

bool MigrationDriver::Stopping() {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

void MigrationDriver::Sleep(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
  mu_.AwaitWithTimeout(absl::Condition(&done), std::min(d, kMaxSleep));
}

absl::Duration MigrationDriver::Backoff(int attempts) const {
  const double factor = std::pow(2.0, std::min(attempts - 1, 20));
  return std::min(options_.retry_initial * factor, options_.retry_max);
}

void MigrationDriver::Loop() {
  while (!Stopping()) {
    if (absl::Status s = ClaimOnce(); !s.ok()) {
      LOG_EVENT(kWarning, "migration claim failed").Field("error", s);
    }
    absl::MutexLock lock(&mu_);
    auto due = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || woken_; };
    mu_.AwaitWithTimeout(absl::Condition(&due), options_.tick);
    woken_ = false;
  }
}

absl::Status MigrationDriver::ClaimOnce() {
  if (options_.ready && !options_.ready()) return absl::OkStatus();
  // Renews what this server holds and claims what nobody does: the claim is the heartbeat.
  auto claimed = migrations_->Claim(options_.owner, options_.lease_ttl, options_.max_claimed);
  if (!claimed.ok()) return claimed.status();
  {
    absl::MutexLock lock(&mu_);
    // Reap runners that ended.
    for (auto it = finished_.begin(); it != finished_.end();) {
      if (!it->second) {
        ++it;
        continue;
      }
      auto runner = runners_.find(it->first);
      if (runner != runners_.end()) {
        runner->second.join();
        runners_.erase(runner);
      }
      it = finished_.erase(it);
    }
    if (stopping_) return absl::OkStatus();
    for (const store::MigrationRecord& m : *claimed) {
      if (runners_.count(m.id) > 0) continue;
      finished_[m.id] = false;
      runners_[m.id] = std::thread([this, id = m.id] { Run(id); });
    }
  }
  if (by_state_ != nullptr) {
    if (auto counts = migrations_->CountByState(); counts.ok()) {
      for (const char* s :
           {"PLANNED", "PREPARING_TARGET", "PRECOPY", "CUTOVER", "RETIRING_SOURCE", "OBSERVING",
            "DONE", "ROLLING_BACK", "ROLLED_BACK", "FAILED", "PROMOTING"}) {
        double n = 0;
        for (const auto& [state, count] : *counts) {
          if (state == s) n = static_cast<double>(count);
        }
        by_state_->Add({{"state", s}}).Set(n);
      }
    }
  }
  return absl::OkStatus();
}

void MigrationDriver::Run(const std::string& id) {
  FaultPoint("migration.driver.claimed");
  while (!Stopping()) {
    auto m = migrations_->Get(id);
    if (!m.ok()) {
      Sleep(options_.tick);
      continue;
    }
    const store::MigrationState state = m->state;
    if (store::IsFinal(state)) {
      (void)migrations_->Release(id, options_.owner);  // nobody drives a finished migration
      break;
    }
    if (m->lease_owner != options_.owner) {
      if (leases_lost_ != nullptr) leases_lost_->Increment();
      break;
    }
    if (m->progress.next_attempt_at.has_value() && absl::Now() < *m->progress.next_attempt_at) {
      Sleep(*m->progress.next_attempt_at - absl::Now());
      continue;
    }
    absl::StatusOr<StepResult> step = migrator_->Step(*m, options_.owner);
    if (step.ok()) {
      if (step->wait > absl::ZeroDuration()) Sleep(step->wait);
      continue;
    }
    const absl::Status error = step.status();
    // Re-read: a lost lease or a move by someone else also surfaces as ABORTED.
    auto now = migrations_->Get(id);
    if (!now.ok()) continue;
    if (now->lease_owner != options_.owner || now->state != m->state) continue;
    absl::Time deadline_from = now->state_entered_at.value_or(absl::Now());
    // A move timed to cut over later pre-copies until then: its deadline counts from that time.
    if (state == store::MigrationState::kPrecopy && now->cutover_after.has_value()) {
      deadline_from = std::max(deadline_from, *now->cutover_after);
    }
    const absl::Duration in_state = absl::Now() - deadline_from;
    const bool past_switch =
        now->progress.switched_at.has_value() || state == store::MigrationState::kRetiringSource ||
        state == store::MigrationState::kObserving || state == store::MigrationState::kRollingBack;
    if (IsRetriable(error) && (past_switch || in_state < options_.step_deadline)) {
      store::MigrationProgress progress = now->progress;
      progress.attempts++;
      progress.last_error = error.ToString();
      const absl::Duration wait = Backoff(progress.attempts);
      progress.next_attempt_at = absl::Now() + wait;
      (void)migrations_->SaveProgress(id, now->state, progress, absl::Now(), options_.owner);
      if (retries_ != nullptr) {
        retries_->Add({{"state", store::StateName(now->state)}}).Increment();
      }
      LOG_EVENT(kWarning, "migration step will be retried")
          .Field("migration_id", id)
          .Field("state", store::StateName(now->state))
          .Field("attempt", progress.attempts)
          .Field("retry_in_seconds", absl::ToDoubleSeconds(wait))
          .Field("error", error);
      continue;
    }
    if (absl::Status gave_up = migrator_->GiveUp(*now, error, options_.owner); !gave_up.ok()) {
      LOG_EVENT(kWarning, "migration could not be given up").Field("error", gave_up);
      Sleep(options_.tick);
    }
  }
  absl::MutexLock lock(&mu_);
  finished_[id] = true;
}

}  // namespace shadowplane::migration
