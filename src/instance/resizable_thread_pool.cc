#include "instance/resizable_thread_pool.h"

#include <algorithm>

namespace shadowplane::instance {

ResizableThreadPool::ResizableThreadPool(int threads) { Resize(threads); }

ResizableThreadPool::~ResizableThreadPool() { shutdown(); }

void ResizableThreadPool::enqueue(std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  tasks_.push_back(std::move(fn));
}

void ResizableThreadPool::shutdown() {
  std::list<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  for (std::thread& t : threads) {
    if (t.joinable()) t.join();
  }
}

void ResizableThreadPool::Resize(int threads) {
  absl::MutexLock lock(&mu_);
  target_ = std::max(1, threads);
  while (running_ < target_ && !stopping_) Spawn();
}

int ResizableThreadPool::target() const {
  absl::MutexLock lock(&mu_);
  return target_;
}

void ResizableThreadPool::Spawn() {
  ++running_;
  threads_.emplace_back([this] { Work(); });
}

void ResizableThreadPool::Work() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ResizableThreadPool* p) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return p->stopping_ || !p->tasks_.empty() || p->running_ > p->target_;
          },
          this));
      // Surplus after a shrink: this worker retires (its thread object is joined at shutdown).
      if (running_ > target_ && !stopping_) {
        --running_;
        return;
      }
      if (tasks_.empty()) {
        --running_;
        return;  // stopping and drained
      }
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace shadowplane::instance
