// Keeps the database usable and says so: connects (retrying with backoff, a log line per attempt),
// applies the schema migrations, then pings at an interval. Serving status follows: NOT_SERVING
// until the database is reachable and migrated, SERVING after, NOT_SERVING again while it is lost
// (and migrations are re-checked when it returns, since it may be a different database).
//
// A migration that must not be applied (changed checksum, newer schema) is fatal: `on_fatal` is
// called once and the supervisor stops. Thread-safe.
#ifndef SHADOWPLANE_SERVER_DATABASE_SUPERVISOR_H_
#define SHADOWPLANE_SERVER_DATABASE_SUPERVISOR_H_

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/serving_status.h"
#include "store/connection_pool.h"
#include "store/migration_runner.h"

namespace prometheus {
class Registry;
class Gauge;
class Counter;
}  // namespace prometheus

namespace shadowplane::server {

struct DatabaseSupervisorOptions {
  std::vector<store::Migration> migrations;
  absl::Duration check_interval = absl::Seconds(2);
  absl::Duration retry_initial = absl::Milliseconds(200);
  absl::Duration retry_max = absl::Seconds(5);
  // Runs each time the database becomes ready, before SERVING is announced (e.g. to apply the
  // declarative locations file). An error is retried like an unreachable database.
  std::function<absl::Status()> on_ready;
};

class DatabaseSupervisor {
 public:
  DatabaseSupervisor(store::ConnectionPool* pool, DatabaseSupervisorOptions options,
                     ServingStatus* serving, prometheus::Registry* registry,
                     std::function<void(const absl::Status&)> on_fatal);
  ~DatabaseSupervisor();

  void Start();
  void Stop();

  bool ready() const { return ready_.load(); }
  int64_t schema_version() const { return schema_version_.load(); }

 private:
  void Loop();
  // Sleeps up to `d` of real time; false if Stop() was called.
  bool SleepFor(absl::Duration d);
  void SetReady(bool ready);

  store::ConnectionPool* const pool_;
  const DatabaseSupervisorOptions options_;
  ServingStatus* const serving_;
  std::function<void(const absl::Status&)> on_fatal_;
  std::atomic<bool> ready_{false};
  std::atomic<int64_t> schema_version_{0};
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
  prometheus::Gauge* up_gauge_ = nullptr;
  prometheus::Gauge* schema_gauge_ = nullptr;
  prometheus::Counter* attempts_ = nullptr;
};

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_DATABASE_SUPERVISOR_H_
