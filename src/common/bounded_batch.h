// A batch of tasks on a WorkerPool with at most `limit` of them queued or running at once, so that
// a long pass over many items holds no more than that (and never overflows the pool's queue), and
// a wait for the whole batch. Submit() and Wait() are called by the one thread that feeds the
// batch; the tasks run on the pool's threads.
#ifndef SHADOWPLANE_COMMON_BOUNDED_BATCH_H_
#define SHADOWPLANE_COMMON_BOUNDED_BATCH_H_

#include <functional>

#include "absl/synchronization/mutex.h"
#include "common/worker_pool.h"

namespace shadowplane {

class BoundedBatch {
 public:
  BoundedBatch(WorkerPool* pool, int limit) : pool_(pool), limit_(limit) {}
  // Waits for the tasks submitted.
  ~BoundedBatch() { Wait(); }
  BoundedBatch(const BoundedBatch&) = delete;
  BoundedBatch& operator=(const BoundedBatch&) = delete;

  // Blocks while `limit` tasks are pending, then queues `task`. False (and `task` not run) when
  // the pool no longer takes tasks (it is shutting down).
  bool Submit(std::function<void()> task) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &BoundedBatch::HasRoom));
      ++pending_;
    }
    const absl::Status queued = pool_->Submit([this, task = std::move(task)] {
      task();
      absl::MutexLock lock(&mu_);
      --pending_;
    });
    if (queued.ok()) return true;
    absl::MutexLock lock(&mu_);
    --pending_;
    return false;
  }

  // Returns once every task submitted has run.
  void Wait() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &BoundedBatch::Idle));
  }

 private:
  bool HasRoom() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return pending_ < limit_; }
  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return pending_ == 0; }

  WorkerPool* const pool_;
  const int limit_;
  absl::Mutex mu_;
  int pending_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_BOUNDED_BATCH_H_
