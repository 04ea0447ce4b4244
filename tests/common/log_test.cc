#include "common/log.h"

#include "gtest/gtest.h"

namespace shadowplane {
namespace {

TEST(LogTest, JsonStringsAreEscaped) {
  std::string out;
  AppendJsonString("a\"b\\c\nd\x01", &out);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\u0001\"");
}

TEST(LogTest, ParsesLevels) {
  LogLevel level;
  ASSERT_TRUE(ParseLogLevel("WARNING", &level));
  EXPECT_EQ(level, LogLevel::kWarning);
  EXPECT_FALSE(ParseLogLevel("loud", &level));
}

TEST(LogTest, LinesAreSingleJsonObjects) {
  ::testing::internal::CaptureStderr();
  LOG_EVENT(kInfo, "hello").Field("n", 3).Field("ok", true).Field("why", absl::NotFoundError("x"));
  LOG_EVENT(kDebug, "dropped at the default level");
  const std::string text = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(
      text.find("\"msg\":\"hello\",\"n\":3,\"ok\":true,\"code\":\"NOT_FOUND\",\"why\":\"x\"}\n"),
      std::string::npos)
      << text;
  EXPECT_EQ(text.find("dropped"), std::string::npos);
}

}  // namespace
}  // namespace shadowplane
