#include "common/retriable.h"

#include "gtest/gtest.h"

namespace shadowplane {
namespace {

TEST(RetriableTest, TransientCodesAreRetriedAndNothingElse) {
  for (int c = 0; c <= 16; ++c) {
    const auto code = static_cast<absl::StatusCode>(c);
    const bool transient =
        code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded ||
        code == absl::StatusCode::kAborted || code == absl::StatusCode::kResourceExhausted;
    EXPECT_EQ(IsRetriable(code), transient) << absl::StatusCodeToString(code);
    EXPECT_EQ(IsRetriable(absl::Status(code, "x")), transient && code != absl::StatusCode::kOk);
  }
  EXPECT_FALSE(IsRetriable(absl::OkStatus()));
  EXPECT_TRUE(IsRetriable(absl::ResourceExhaustedError("all 8 database connections busy")));
  EXPECT_FALSE(IsRetriable(absl::InvalidArgumentError("millicores must be positive")));
}

}  // namespace
}  // namespace shadowplane
