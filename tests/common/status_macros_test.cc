#include "common/status_macros.h"

#include "gtest/gtest.h"

namespace shadowplane {
namespace {

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int half, Half(x));
  ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

absl::Status CheckQuarter(int x, int* out) {
  RETURN_IF_ERROR(Half(x).status());
  ASSIGN_OR_RETURN(*out, Quarter(x));
  return absl::OkStatus();
}

TEST(StatusMacrosTest, PassValuesThroughAndReturnErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
  int out = 0;
  EXPECT_TRUE(CheckQuarter(12, &out).ok());
  EXPECT_EQ(out, 3);
  EXPECT_EQ(CheckQuarter(7, &out).message(), "odd");
}

}  // namespace
}  // namespace shadowplane
