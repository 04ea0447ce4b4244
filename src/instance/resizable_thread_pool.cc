#include "instance/resizable_thread_pool.h"

#include <algorithm>

namespace shadowplane::instance {

ResizableThreadPool::ResizableThreadPool(int threads) { Resize(threads); }

ResizableThreadPool::~ResizableThreadPool() { Shutdown(); }

void ResizableThreadPool::Enqueue(std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  tasks_.push_back(std::move(fn));
  wake_.Signal();  // one worker per task: a Condition would have every waiter evaluate it
}

void ResizableThreadPool::Shutdown() {
  std::list<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    threads.swap(threads_);
    wake_.SignalAll();
  }
  for (std::thread& t : threads) {
    if (t.joinable()) t.join();
  }
}

void ResizableThreadPool::Resize(int threads) {
  absl::MutexLock lock(&mu_);
  target_ = std::max(1, threads);
  while (running_ < target_ && !stopping_) Spawn();
  if (running_ > target_) wake_.SignalAll();  // the surplus retires
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
      while (!stopping_ && tasks_.empty() && running_ <= target_) wake_.Wait(&mu_);
      // Surplus after a shrink: this worker retires (its thread object is joined at shutdown).
      if (running_ > target_ && !stopping_) {
        --running_;
        if (!tasks_.empty()) wake_.Signal();  // the task it was woken for goes to another
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
