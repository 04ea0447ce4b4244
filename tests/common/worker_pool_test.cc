#include "common/worker_pool.h"

#include <atomic>

#include "absl/synchronization/notification.h"
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

}  // namespace
}  // namespace shadowplane
