#include "common/worker_pool.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace shadowplane {
namespace {

TEST(WorkerPoolTest, RunsEveryTaskBeforeShutdownReturns) {
  std::atomic<int> ran{0};
  WorkerPool pool("test", 3, 1000);
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(pool.Submit([&ran] { ran++; }).ok());
  pool.Shutdown();
  EXPECT_EQ(ran.load(), 500);
}

TEST(WorkerPoolTest, FullQueueIsResourceExhausted) {
  absl::Notification release;
  absl::Notification started;
  WorkerPool pool("bounded", 1, 2);
  ASSERT_TRUE(pool.Submit([&] {
                    started.Notify();
                    release.WaitForNotification();
                  })
                  .ok());
  started.WaitForNotification();  // the only worker is busy now
  ASSERT_TRUE(pool.Submit([] {}).ok());
  ASSERT_TRUE(pool.Submit([] {}).ok());
  absl::Status full = pool.Submit([] {});
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(full.message().find("bounded"), std::string::npos);
  EXPECT_EQ(pool.queued(), 2u);
  release.Notify();
}

TEST(WorkerPoolTest, SubmitAfterShutdownIsRefused) {
  WorkerPool pool("done", 2, 10);
  pool.Shutdown();
  pool.Shutdown();  // idempotent
  EXPECT_EQ(pool.Submit([] {}).code(), absl::StatusCode::kFailedPrecondition);
}

// Stress for AddressSanitizer (ThreadSanitizer cannot see Debian's absl::Mutex:
// deploy/tsan-probe.sh): producers on many threads race each other, the workers, tasks that
// submit more tasks, and a Shutdown() in the middle. Every accepted task runs exactly once; every
// refused one never runs; nothing runs after Shutdown() returns.
TEST(WorkerPoolTest, ManyProducersAndAShutdownMidStreamRunEveryAcceptedTaskOnce) {
  int accepted_in_all_rounds = 0;
  for (int round = 0; round < 50; ++round) {
    constexpr int kProducers = 8;
    constexpr int kPerProducer = 2000;
    std::vector<std::atomic<int>> runs(kProducers * kPerProducer * 2);
    std::atomic<int> accepted{0};
    std::atomic<bool> shut{false};
    std::atomic<int> after_shutdown{0};
    WorkerPool pool("stress", 4, 64);
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&, p] {
        for (int i = 0; i < kPerProducer; ++i) {
          const int id = (p * kPerProducer + i) * 2;
          absl::Status s = pool.Submit([&, id] {
            if (shut.load()) after_shutdown++;
            runs[id]++;
            // Half the tasks submit a follow-up from a worker thread.
            if (id % 4 == 0 && pool.Submit([&, id] { runs[id + 1]++; }).ok()) accepted++;
          });
          if (s.ok()) {
            accepted++;
            continue;
          }
          ASSERT_TRUE(absl::IsResourceExhausted(s) || absl::IsFailedPrecondition(s)) << s;
          if (absl::IsFailedPrecondition(s)) return;  // shut down: nothing more is taken
        }
      });
    }
    // Shut down while producers are still submitting (in some rounds, before most of them).
    absl::SleepFor(absl::Microseconds(round * 100));
    pool.Shutdown();
    shut = true;
    for (std::thread& t : producers) t.join();
    int ran = 0;
    for (const std::atomic<int>& r : runs) {
      ASSERT_LE(r.load(), 1);
      ran += r.load();
    }
    EXPECT_EQ(ran, accepted.load()) << "round " << round;
    accepted_in_all_rounds += accepted.load();
    EXPECT_EQ(after_shutdown.load(), 0);
    EXPECT_EQ(pool.Submit([] {}).code(), absl::StatusCode::kFailedPrecondition);
  }
  // Tasks did run alongside the producers: the counts above compared something.
  EXPECT_GT(accepted_in_all_rounds, 1000);
}

}  // namespace
}  // namespace shadowplane
