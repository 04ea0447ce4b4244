// A pool of worker threads whose count can change while serving, so that scaling an instance
// changes how many requests it works on at once without a restart. Thread-safe.
#ifndef SHADOWPLANE_INSTANCE_RESIZABLE_THREAD_POOL_H_
#define SHADOWPLANE_INSTANCE_RESIZABLE_THREAD_POOL_H_

#include <deque>
#include <functional>
#include <list>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace shadowplane::instance {

class ResizableThreadPool {
 public:
  explicit ResizableThreadPool(int threads);
  ~ResizableThreadPool();

  void Enqueue(std::function<void()> fn);
  // Runs what is queued, then joins every worker. Idempotent.
  void Shutdown();

  // Grows at once; shrinks as surplus workers finish their current task.
  void Resize(int threads);
  int target() const;

 private:
  void Work();
  void Spawn() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::CondVar wake_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  int target_ ABSL_GUARDED_BY(mu_) = 0;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::list<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shadowplane::instance

#endif  // SHADOWPLANE_INSTANCE_RESIZABLE_THREAD_POOL_H_
