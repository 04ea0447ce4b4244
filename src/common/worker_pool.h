// A fixed set of threads draining a bounded queue of tasks.
//
// Bounded on purpose: when producers outrun the workers, Submit() says RESOURCE_EXHAUSTED at once
// instead of letting the queue (and latency) grow without limit. Thread-safe.
#ifndef SHADOWPLANE_COMMON_WORKER_POOL_H_
#define SHADOWPLANE_COMMON_WORKER_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace shadowplane {

class WorkerPool {
 public:
  // `threads` >= 1 workers; at most `max_queued` tasks wait beyond those running.
  WorkerPool(std::string name, int threads, size_t max_queued);
  // Runs every queued task, then joins the workers.
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`. RESOURCE_EXHAUSTED when the queue is full, FAILED_PRECONDITION after Shutdown().
  absl::Status Submit(std::function<void()> task);

  // Stops accepting tasks, runs those already queued, and joins the workers. Idempotent.
  void Shutdown();

  size_t queued() const;
  const std::string& name() const { return name_; }

 private:
  void WorkLoop();

  const std::string name_;
  const size_t max_queued_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_WORKER_POOL_H_
