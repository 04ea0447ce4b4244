// The agent's telemetry spool and its batch encoding: batches in order across a reopen, where
// each instance's log was read up to, the bound (oldest dropped and counted), files that cannot
// be read back, and hostile encodings refused line by line.
#include "agent/telemetry_spool.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/child_process.h"

namespace shadowplane::agent {
namespace {

namespace fs = std::filesystem;

TelemetryBatch Accesses(const std::string& instance, const std::string& epoch, int64_t first,
                        int64_t last) {
  TelemetryBatch b;
  b.batch_id = AccessBatchId(instance, epoch, first, last);
  for (int64_t seq = first; seq <= last; ++seq) {
    ShippedAccess e;
    e.at = absl::FromUnixMicros(1765000000000000 + seq);
    e.client_ip = "127.101.0.1";
    e.resource_id = "r";
    e.instance_id = instance;
    e.request_type = "GET";
    e.bytes_in = seq;
    e.bytes_out = 300;
    e.latency_ms = 0.25;
    b.events.push_back(e);
  }
  return b;
}

class TelemetrySpoolTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("sp-spool"); }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST_F(TelemetrySpoolTest, BatchesLeaveInOrderAndTheCursorsSurviveAReopen) {
  {
    auto spool = TelemetrySpool::Open(dir_, 1 << 20);
    ASSERT_TRUE(spool.ok()) << spool.status();
    ASSERT_TRUE((*spool)->Append(Accesses("i-1", "e1", 1, 3)).ok());
    ASSERT_TRUE((*spool)->Append(Accesses("i-2", "e9", 1, 2)).ok());
    ASSERT_TRUE((*spool)->Append(Accesses("i-1", "e1", 4, 6)).ok());
    EXPECT_EQ((*spool)->batches(), 3);
    auto oldest = (*spool)->Oldest();
    ASSERT_TRUE(oldest.has_value());
    EXPECT_EQ(oldest->second.batch_id, AccessBatchId("i-1", "e1", 1, 3));
    ASSERT_EQ(oldest->second.events.size(), 3u);
    EXPECT_EQ(oldest->second.events[2].bytes_in, 3);
    EXPECT_DOUBLE_EQ(oldest->second.events[0].latency_ms, 0.25);
    ASSERT_TRUE((*spool)->Acknowledge(oldest->first, oldest->second).ok());
  }
  // Reopened (an agent restart): two batches left, in order; i-1 read up to 6 (spooled), i-2 to 2.
  auto spool = TelemetrySpool::Open(dir_, 1 << 20);
  ASSERT_TRUE(spool.ok()) << spool.status();
  EXPECT_EQ((*spool)->batches(), 2);
  std::map<std::string, LogCursor> cursors = (*spool)->Cursors();
  EXPECT_EQ(cursors["i-1"].epoch, "e1");
  EXPECT_EQ(cursors["i-1"].last, 6);
  EXPECT_EQ(cursors["i-2"].last, 2);
  auto next = (*spool)->Oldest();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->second.batch_id, AccessBatchId("i-2", "e9", 1, 2));
  ASSERT_TRUE((*spool)->Acknowledge(next->first, next->second).ok());
  next = (*spool)->Oldest();
  ASSERT_TRUE((*spool)->Acknowledge(next->first, next->second).ok());
  EXPECT_FALSE((*spool)->Oldest().has_value());
  EXPECT_EQ((*spool)->bytes(), 0);
  // All shipped: the cursors file alone remembers how far each log was read.
  auto again = TelemetrySpool::Open(dir_, 1 << 20);
  ASSERT_TRUE(again.ok());
  cursors = (*again)->Cursors();
  EXPECT_EQ(cursors["i-1"].last, 6);
  EXPECT_EQ(cursors["i-2"].epoch, "e9");
}

TEST_F(TelemetrySpoolTest, PastTheBoundTheOldestGoAndAreCounted) {
  auto spool = TelemetrySpool::Open(dir_, 4096);
  ASSERT_TRUE(spool.ok());
  for (int b = 0; b < 20; ++b) {
    ASSERT_TRUE((*spool)->Append(Accesses("i-1", "e1", b * 10 + 1, b * 10 + 10)).ok());
  }
  EXPECT_LE((*spool)->bytes(), 4096);
  EXPECT_GT((*spool)->dropped_records(), 0);
  EXPECT_EQ((*spool)->dropped_records() + 10 * (*spool)->batches(), 200);
  // The newest survive.
  EXPECT_EQ((*spool)->Cursors()["i-1"].last, 200);
  // A file that cannot be read back is dropped and counted; the next one is returned.
  const int64_t dropped = (*spool)->dropped_records();
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (e.path().extension() == ".batch") {
      std::ofstream(e.path()) << "B\tx\nE\tgarbage\n";
      break;
    }
  }
  auto oldest = (*spool)->Oldest();
  ASSERT_TRUE(oldest.has_value());
  EXPECT_EQ((*spool)->dropped_records(), dropped + 10);
}

TEST_F(TelemetrySpoolTest, AnUnwritableSpoolRefusesTheBatchAndKeepsNothingHalfWritten) {
  const std::string dir = dir_ + "/spool";
  auto spool = TelemetrySpool::Open(dir, 1 << 20);
  ASSERT_TRUE(spool.ok());
  // The directory gone and a file in its place: no write can succeed there, root's neither.
  fs::remove_all(dir);
  std::ofstream(dir) << "in the way";
  EXPECT_EQ((*spool)->Append(Accesses("i-1", "e1", 1, 2)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*spool)->batches(), 0);
  EXPECT_EQ((*spool)->Cursors().count("i-1"), 0u) << "not read: the records stay in the log";
}

TEST(TelemetryBatchTest, TheEncodingRoundTripsAndRefusesHostileText) {
  TelemetryBatch b = Accesses("i-1", "e1", 1, 2);
  ShippedSample s;
  s.at = absl::FromUnixSeconds(1765000000);
  s.instance_id = "i-1";
  s.interval = absl::Seconds(10);
  s.cpu_seconds = 0.125;
  s.memory_bytes = 1 << 20;
  s.net_bytes_in = 10;
  s.net_bytes_out = 20;
  b.samples.push_back(s);
  b.events[1].client_id = "c-7";
  absl::StatusOr<TelemetryBatch> back = DecodeBatch(EncodeBatch(b));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->batch_id, b.batch_id);
  EXPECT_EQ(back->records(), 3);
  EXPECT_EQ(back->events[1].client_id, "c-7");
  EXPECT_EQ(back->events[0].client_id, "");
  EXPECT_EQ(back->samples[0].interval, absl::Seconds(10));
  EXPECT_DOUBLE_EQ(back->samples[0].cpu_seconds, 0.125);
  for (const char* bad : {"", "X\tid\n", "B\tid\nE\t1\tip\n", "B\tid\nS\t1\ti\tx\t0\t0\t0\t0\n",
                          "B\tid\nE\t1\tip\t-\tr\ti\tGET\t1\t2\tnan\n", "B\tid\nQ\t1\n"}) {
    EXPECT_EQ(DecodeBatch(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  // What an access batch id covers, and ids that cover nothing.
  std::optional<CoveredRecords> c = CoveredBy(AccessBatchId("aa-bb-cc", "0f", 5, 9));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->instance_id, "aa-bb-cc");
  EXPECT_EQ(c->epoch, "0f");
  EXPECT_EQ(c->first, 5);
  EXPECT_EQ(c->last, 9);
  EXPECT_FALSE(CoveredBy("u-i-1-123").has_value());
  EXPECT_FALSE(CoveredBy("a-i-e-9-5").has_value());
  EXPECT_FALSE(CoveredBy("a-e-1-2").has_value());
}

}  // namespace
}  // namespace shadowplane::agent
