// Drives unfinished migrations to their end, under leases, so that any number of servers may run
// one: every `tick` it claims (or renews) the leases of up to `max_claimed` unfinished migrations
// (MigrationRepository::Claim, FOR UPDATE SKIP LOCKED) and runs each claimed one on a thread of
// its own, step after step (migration/migrator.h). A server that dies stops renewing; another
// claims its migrations once their leases expire and resumes each from its persisted state.
//
// A step's error is retriable (common/retriable.h: an agent, the traffic server or the database
// down or busy, a sync round cut short, a location or disk full for now) or permanent. Retriable
// ones are retried with exponential backoff, counted in the row (attempts, last_error,
// next_attempt_at) and in metrics, until the migration has spent `step_deadline` in its state;
// then, as on a permanent error, it rolls back while that is still safe (before the traffic switch)
// and fails otherwise. After the switch, retrying continues: the new primary serves, and the
// remaining steps only tidy up.
//
// Fault point (common/fault_point.h): "migration.driver.claimed", as a runner starts.
//
// Metrics: shadowplane_migrations{state} (gauge), shadowplane_migration_step_retries_total{state},
// shadowplane_migration_leases_lost_total. Thread-safe.
#ifndef SHADOWPLANE_MIGRATION_MIGRATION_DRIVER_H_
#define SHADOWPLANE_MIGRATION_MIGRATION_DRIVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "migration/migration_stepper.h"
#include "store/migration_repository.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane::migration {

struct MigrationDriverOptions {
  std::string owner;  // this server's name in lease_owner; unique per process
  absl::Duration tick = absl::Milliseconds(500);
  absl::Duration lease_ttl = absl::Seconds(15);
  int max_claimed = 32;
  absl::Duration step_deadline = absl::Minutes(10);
  absl::Duration retry_initial = absl::Milliseconds(500);
  absl::Duration retry_max = absl::Seconds(30);
  // Claims only while this says so (the database is ready); empty: always.
  std::function<bool()> ready;
};

class MigrationDriver {
 public:
  MigrationDriver(store::MigrationRepository* migrations, MigrationStepper* migrator,
                  MigrationDriverOptions options, prometheus::Registry* registry);
  ~MigrationDriver();

  void Start();
  // Stops claiming, waits for running steps to finish, and gives the leases up so that another
  // server resumes at once.
  void Stop();

  // One claim pass (and gauge refresh); starts runners for newly claimed migrations.
  absl::Status ClaimOnce();
  // Nudges the claim loop (a migration was just created).
  void Wake();

 private:
  void Loop();
  void Run(const std::string& id);
  bool Stopping();
  // Sleeps up to `d`, returning early on Stop() or Wake() for `id`.
  void Sleep(absl::Duration d);
  absl::Duration Backoff(int attempts) const;

  store::MigrationRepository* const migrations_;
  MigrationStepper* const migrator_;
  const MigrationDriverOptions options_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, std::thread> runners_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, bool> finished_ ABSL_GUARDED_BY(mu_);  // runner id -> done
  std::thread loop_;

  prometheus::Family<prometheus::Gauge>* by_state_ = nullptr;
  prometheus::Family<prometheus::Counter>* retries_ = nullptr;
  prometheus::Counter* leases_lost_ = nullptr;
};

}  // namespace shadowplane::migration

#endif  // SHADOWPLANE_MIGRATION_MIGRATION_DRIVER_H_
