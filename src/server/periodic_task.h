// Runs a function every `interval` of real time on a thread of its own until stopped. For the
// server's background loops (reconcilers); each run decides for itself whether there is work.
// Thread-safe.
#ifndef SHADOWPLANE_SERVER_PERIODIC_TASK_H_
#define SHADOWPLANE_SERVER_PERIODIC_TASK_H_

#include <algorithm>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace shadowplane::server {

class PeriodicTask {
 public:
  PeriodicTask(absl::Duration interval, std::function<void()> run)
      : interval_(interval), run_(std::move(run)) {
    thread_ = std::thread([this] {
      while (true) {
        {
          absl::MutexLock lock(&mu_);
          if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_)) return;
        }
        run_();
      }
    });
  }
  ~PeriodicTask() { Stop(); }

  // Waits for a run in progress to finish. Idempotent.
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  const absl::Duration interval_;
  const std::function<void()> run_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// A loop of passes for upkeep that should start as soon as the database is ready rather than one
// interval after start-up: `pass` runs once `ready()` holds, then `interval` after each pass that
// succeeded; a pass that failed (returned false) is retried at the next check (every
// min(interval, 5 s)).
inline std::unique_ptr<PeriodicTask> StartPassLoop(absl::Duration interval,
                                                   std::function<bool()> ready,
                                                   std::function<bool()> pass) {
  auto next = std::make_shared<absl::Time>(absl::InfinitePast());  // the loop's thread only
  return std::make_unique<PeriodicTask>(
      std::min(interval, absl::Seconds(5)),
      [interval, ready = std::move(ready), pass = std::move(pass), next] {
        if (!ready() || absl::Now() < *next) return;
        if (pass()) *next = absl::Now() + interval;
      });
}

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_PERIODIC_TASK_H_
