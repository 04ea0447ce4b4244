// The calibration table: judged moves by the confidence they were decided at.
#include "planner/calibration.h"

#include <cmath>

#include "gtest/gtest.h"

namespace shadowplane::planner {
namespace {

TEST(CalibrationTest, CountsAMoveThatPaidOffAndOneThatDidNotInTheirBuckets) {
  const std::vector<CalibrationBucket> table =
      Calibrate({{0.85, 10.0, 12.5, true}, {0.82, 4.0, -1.5, false}, {0.95, 2.0, 1.0, true}});
  ASSERT_EQ(table.size(), 10u);
  const CalibrationBucket& b8 = table[8];
  EXPECT_DOUBLE_EQ(b8.low, 0.8);
  EXPECT_DOUBLE_EQ(b8.high, 0.9);
  EXPECT_EQ(b8.moves, 2);
  EXPECT_EQ(b8.paid_off, 1);
  EXPECT_DOUBLE_EQ(b8.paid_off_share(), 0.5);
  EXPECT_DOUBLE_EQ(b8.mean_confidence, (0.85 + 0.82) / 2);
  EXPECT_DOUBLE_EQ(b8.mean_predicted_saving, 7.0);
  EXPECT_DOUBLE_EQ(b8.mean_realized_saving, 5.5);
  EXPECT_EQ(table[9].moves, 1);
  EXPECT_EQ(table[9].paid_off, 1);
  int empty = 0;
  for (const CalibrationBucket& b : table) empty += b.moves == 0;
  EXPECT_EQ(empty, 8);
}

TEST(CalibrationTest, EdgesAndNonsenseLandInTheNearestBucket) {
  const std::vector<CalibrationBucket> table = Calibrate({{1.0, 0, 0, true},
                                                          {0.0, 0, 0, false},
                                                          {std::nan(""), 0, 0, false},
                                                          {1.7, 0, 0, true},
                                                          {-3, 0, 0, false},
                                                          {0.7, 0, 0, true}});
  EXPECT_EQ(table[9].moves, 2);  // 1.0 and 1.7
  EXPECT_EQ(table[0].moves, 3);  // 0, NaN, -3
  EXPECT_EQ(table[7].moves, 1);  // exactly 0.7 is in [0.7, 0.8)
  EXPECT_EQ(BucketLabel(0.7), "0.7");
  EXPECT_EQ(BucketLabel(1.0), "0.9");
  EXPECT_EQ(BucketLabel(std::nan("")), "0.0");
}

}  // namespace
}  // namespace shadowplane::planner
