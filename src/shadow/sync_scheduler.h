// Keeps every shadow close behind its primary: each tick, under the "shadow-sync-scheduler"
// lease (so one replica schedules at a time and another takes over when it dies), it lists the
// active reservations with a running shadow and starts a quick round for each one that is due:
// its interval of domain time (jittered, so that shadows sharing an interval do not sync in
// lockstep) has passed since its last round started. A round still running when the next falls
// due is skipped and counted, never doubled. Also exports shadow staleness across shadows.
// Thread-safe.
#ifndef SHADOWPLANE_SHADOW_SYNC_SCHEDULER_H_
#define SHADOWPLANE_SHADOW_SYNC_SCHEDULER_H_

#include <map>
#include <memory>
#include <random>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/worker_pool.h"
#include "shadow/shadow_syncer.h"
#include "store/lease_store.h"
#include "store/sync_run_repository.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
template <typename T>
class Family;
class Histogram;
}  // namespace prometheus

namespace shadowplane::shadow {

struct SyncSchedulerOptions {
  std::string owner;  // this replica's name in the lease
  absl::Duration lease_ttl = absl::Seconds(15);
  double jitter = 0.1;  // intervals vary by up to +-10%
  int concurrency = 4;  // rounds at once
};

class SyncScheduler {
 public:
  SyncScheduler(ShadowSyncer* syncer, store::SyncRunRepository* runs, store::LeaseStore* leases,
                const Clock* clock, SyncSchedulerOptions options, prometheus::Registry* registry);
  // Waits for the rounds started to finish, then gives the lease up.
  ~SyncScheduler();

  // One pass; returns the number of rounds started. Not concurrent with itself.
  absl::StatusOr<int> Tick();

 private:
  void UpdateStaleness(const std::vector<store::ShadowPair>& pairs, absl::Time now);

  ShadowSyncer* const syncer_;
  store::SyncRunRepository* const runs_;
  store::LeaseStore* const leases_;
  const Clock* const clock_;
  const SyncSchedulerOptions options_;
  std::unique_ptr<WorkerPool> workers_;
  absl::Mutex mu_;
  std::map<std::string, absl::Time> next_due_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool leader_ ABSL_GUARDED_BY(mu_) = false;
  std::mt19937_64 random_ ABSL_GUARDED_BY(mu_){std::random_device{}()};

  prometheus::Registry* registry_ = nullptr;
  prometheus::Counter* skipped_ = nullptr;
  prometheus::Gauge* staleness_max_ = nullptr;
  prometheus::Gauge* staleness_intervals_max_ = nullptr;
  prometheus::Gauge* leader_gauge_ = nullptr;
  prometheus::Family<prometheus::Histogram>* staleness_ = nullptr;
  prometheus::Histogram* staleness_now_ = nullptr;
};

}  // namespace shadowplane::shadow

#endif  // SHADOWPLANE_SHADOW_SYNC_SCHEDULER_H_
