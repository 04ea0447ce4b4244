// The instance's record of what moves did to its clients: per-client counts since a time, bounded
// memory that says when it lost events, and the client key.
#include "instance/disruption_log.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace shadowplane::instance {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1798761600);

TEST(DisruptionLogTest, CountsPerClientSinceATime) {
  DisruptionLog log;
  log.Note("id:a", DisruptionKind::kHeld, kT0);
  log.Note("id:a", DisruptionKind::kForwarded, kT0 + absl::Seconds(1));
  log.Note("id:b", DisruptionKind::kFailed, kT0 + absl::Seconds(2));
  log.Note("id:a", DisruptionKind::kHeld, kT0 + absl::Seconds(3));
  const DisruptionReport all = log.Since(kT0);
  EXPECT_FALSE(all.truncated);
  ASSERT_EQ(all.clients.size(), 2u);
  EXPECT_EQ(all.clients.at("id:a")[DisruptionKind::kHeld], 2);
  EXPECT_EQ(all.clients.at("id:a")[DisruptionKind::kForwarded], 1);
  EXPECT_EQ(all.clients.at("id:b")[DisruptionKind::kFailed], 1);
  const DisruptionReport later = log.Since(kT0 + absl::Seconds(2));
  EXPECT_EQ(later.clients.at("id:a")[DisruptionKind::kHeld], 1);
  EXPECT_EQ(later.clients.at("id:a")[DisruptionKind::kForwarded], 0);
  EXPECT_EQ(log.Since(kT0 + absl::Hours(1)).clients.size(), 0u);
}

TEST(DisruptionLogTest, BoundedAndSaysWhenEventsWereLost) {
  DisruptionLog log(/*capacity=*/3);
  for (int i = 0; i < 5; ++i) {
    log.Note(absl::StrCat("id:c", i), DisruptionKind::kClosed, kT0 + absl::Seconds(i));
  }
  const DisruptionReport all = log.Since(kT0);
  EXPECT_TRUE(all.truncated);  // c0 and c1 were overwritten
  EXPECT_EQ(all.clients.size(), 3u);
  const DisruptionReport recent = log.Since(kT0 + absl::Seconds(2));
  EXPECT_FALSE(recent.truncated);
  EXPECT_EQ(recent.clients.size(), 3u);
}

TEST(DisruptionLogTest, JsonNamesEveryKind) {
  DisruptionLog log;
  log.Note("id:a\"b", DisruptionKind::kStaleRead, kT0);
  EXPECT_EQ(DisruptionLog::ToJson(log.Since(kT0)),
            "{\"truncated\":false,\"clients\":{\"id:a\\\"b\":{\"held\":0,\"failed\":0,"
            "\"forwarded\":0,\"closed\":0,\"stale_read\":1}}}\n");
}

TEST(DisruptionLogTest, ClientKeyIsTheIdElseTheAddress) {
  EXPECT_EQ(ClientKeyOf("c-17", "127.0.0.1"), "id:c-17");
  EXPECT_EQ(ClientKeyOf("", "127.0.0.1"), "ip:127.0.0.1");
  // Hostile ids: too long, or with spaces or control characters, are not used as keys.
  EXPECT_EQ(ClientKeyOf(std::string(129, 'x'), "::1"), "ip:::1");
  EXPECT_EQ(ClientKeyOf("a b", "::1"), "ip:::1");
  EXPECT_EQ(ClientKeyOf(std::string("a\x01", 2), "::1"), "ip:::1");
}

}  // namespace
}  // namespace shadowplane::instance
