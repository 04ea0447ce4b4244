#include "shadow/sync_scheduler.h"

#include <algorithm>

#include "common/log.h"
#include "common/status_macros.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace shadowplane::shadow {

namespace {

constexpr char kLease[] = "shadow-sync-scheduler";

}  // namespace

SyncScheduler::SyncScheduler(ShadowSyncer* syncer, store::SyncRunRepository* runs,
                             store::LeaseStore* leases, const Clock* clock,
                             SyncSchedulerOptions options, prometheus::Registry* registry)
    : syncer_(syncer),
      runs_(runs),
      leases_(leases),
      clock_(clock),
      options_(options),
      workers_(std::make_unique<WorkerPool>("shadow-sync", std::max(1, options.concurrency), 1024)),
      registry_(registry) {
  if (registry == nullptr) return;
  skipped_ = &prometheus::BuildCounter()
                  .Name("shadowplane_sync_skipped_total")
                  .Help(
                      "Periodic sync rounds skipped because the shadow's previous round was "
                      "still running.")
                  .Register(*registry)
                  .Add({});
  staleness_max_ = &prometheus::BuildGauge()
                        .Name("shadowplane_shadow_staleness_max_seconds")
                        .Help(
                            "The stalest shadow: domain seconds since the source state it "
                            "last caught up with (or since its reservation was created).")
                        .Register(*registry)
                        .Add({});
  staleness_intervals_max_ =
      &prometheus::BuildGauge()
           .Name("shadowplane_shadow_staleness_intervals_max")
           .Help(
               "The stalest shadow in its own sync intervals (staleness divided by the "
               "reservation's interval): what alerts compare, whatever each interval is.")
           .Register(*registry)
           .Add({});
  leader_gauge_ = &prometheus::BuildGauge()
                       .Name("shadowplane_sync_scheduler_leader")
                       .Help("1 while this replica holds the sync scheduler's lease.")
                       .Register(*registry)
                       .Add({});
  staleness_ = &prometheus::BuildHistogram()
                    .Name("shadowplane_shadow_staleness_seconds")
                    .Help(
                        "Staleness of every shadow at the scheduler's last pass (a fresh "
                        "histogram each pass: a distribution across shadows, not over time).")
                    .Register(*registry);
}

SyncScheduler::~SyncScheduler() {
  workers_->Shutdown();
  bool leader;
  {
    absl::MutexLock lock(&mu_);
    leader = leader_;
  }
  if (leader) leases_->Release(kLease, options_.owner).IgnoreError();
}

void SyncScheduler::UpdateStaleness(const std::vector<store::ShadowPair>& pairs, absl::Time now) {
  if (registry_ == nullptr) return;
  double max = 0, max_intervals = 0;
  // Replaced wholesale each pass, so that it describes the shadows as they are now.
  if (staleness_now_ != nullptr) staleness_->Remove(staleness_now_);
  staleness_now_ = &staleness_->Add(
      {}, prometheus::Histogram::BucketBoundaries{1, 5, 15, 30, 60, 120, 300, 900, 3600, 21600});
  for (const store::ShadowPair& pair : pairs) {
    if (!pair.last_synced_at.has_value()) continue;  // never synced: counted once it is
    double seconds = std::max(0.0, absl::ToDoubleSeconds(now - *pair.last_synced_at));
    staleness_now_->Observe(seconds);
    max = std::max(max, seconds);
    if (pair.interval_seconds > 0) {
      max_intervals = std::max(max_intervals, seconds / pair.interval_seconds);
    }
  }
  staleness_max_->Set(max);
  staleness_intervals_max_->Set(max_intervals);
}

absl::StatusOr<int> SyncScheduler::Tick() {
  ASSIGN_OR_RETURN(bool leader, leases_->TryAcquire(kLease, options_.owner, options_.lease_ttl));
  {
    absl::MutexLock lock(&mu_);
    if (leader != leader_) {
      LOG_EVENT(kInfo, leader ? "took the sync scheduler lease" : "lost the sync scheduler lease")
          .Field("owner", options_.owner);
    }
    leader_ = leader;
  }
  if (leader_gauge_ != nullptr) leader_gauge_->Set(leader ? 1 : 0);
  if (!leader) return 0;

  ASSIGN_OR_RETURN(std::vector<store::ShadowPair> pairs, runs_->ActivePairs());
  const absl::Time now = clock_->Now();
  UpdateStaleness(pairs, now);
  int started = 0;
  absl::MutexLock lock(&mu_);
  std::map<std::string, absl::Time> next_due;
  for (const store::ShadowPair& pair : pairs) {
    const absl::Duration interval = absl::Seconds(pair.interval_seconds);
    auto known = next_due_.find(pair.reservation_id);
    absl::Time due;
    if (known != next_due_.end()) {
      due = known->second;
    } else if (pair.last_synced_at.has_value()) {
      due = *pair.last_synced_at + interval;  // e.g. after taking over from another replica
    } else {
      due = now;  // never synced: make the shadow a copy of its primary at once
    }
    if (due > now) {
      next_due[pair.reservation_id] = due;
      continue;
    }
    std::uniform_real_distribution<double> jitter(1 - options_.jitter, 1 + options_.jitter);
    next_due[pair.reservation_id] = now + interval * jitter(random_);
    if (syncer_->Running(pair.reservation_id)) {
      if (skipped_ != nullptr) skipped_->Increment();
      LOG_EVENT(kInfo, "sync round skipped: the previous one is still running")
          .Field("reservation", pair.reservation_id);
      continue;
    }
    const std::string id = pair.reservation_id;
    ++in_flight_;
    absl::Status submitted = workers_->Submit([this, id] {
      // Errors are recorded (sync_runs, metrics, logs) by the syncer; ABORTED means a manual
      // round got there first.
      syncer_->Sync(id, SyncTrigger::kPeriodic).status().IgnoreError();
      absl::MutexLock lock(&mu_);
      --in_flight_;
    });
    if (!submitted.ok()) {
      --in_flight_;
      continue;
    }
    ++started;
  }
  next_due_ = std::move(next_due);  // forgets reservations that are gone
  return started;
}

}  // namespace shadowplane::shadow
