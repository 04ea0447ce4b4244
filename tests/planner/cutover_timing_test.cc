// The pre-copy estimate and the choice of a move's start and cutover from an hourly outlook.
#include "planner/cutover_timing.h"

#include <gtest/gtest.h>

#include <vector>

namespace shadowplane::planner {
namespace {

const absl::Time kHour0 = absl::FromUnixSeconds(1798761600);  // 2027-01-01T00:00:00Z

// Staying costs 1 an hour; the target costs 2 until `shift` and 0.5 from then on. Requests per
// hour as given.
HourlyOutlook Outlook(const std::vector<double>& requests, int shift) {
  HourlyOutlook h;
  h.first_hour = kHour0;
  h.requests = requests;
  for (size_t i = 0; i < requests.size(); ++i) {
    h.current_cost.push_back(1);
    h.target_cost.push_back(static_cast<int>(i) < shift ? 2 : 0.5);
  }
  return h;
}

TEST(EstimatePrecopyTest, DataOverBandwidthTimesSafety) {
  PrecopyInputs in;
  in.data_bytes = 1000;
  in.default_bandwidth = 10;  // bytes per second
  in.safety = 2;
  const PrecopyEstimate e = EstimatePrecopy(in);
  EXPECT_EQ(e.bandwidth_source, "default");
  EXPECT_EQ(e.real, absl::Seconds(200));
  EXPECT_EQ(e.domain, absl::Seconds(200));
}

TEST(EstimatePrecopyTest, MeasuredBandwidthDirtyRateAndScale) {
  PrecopyInputs in;
  in.data_bytes = 1000;
  in.measured_bandwidth = 100;
  in.dirty_bytes_per_second = 50;  // each round half the one before: 10 + 5 + 2.5 + ... -> 20
  in.safety = 1;
  in.max_rounds = 40;
  in.time_scale = 60;
  const PrecopyEstimate e = EstimatePrecopy(in);
  EXPECT_EQ(e.bandwidth_source, "measured");
  EXPECT_NEAR(absl::ToDoubleSeconds(e.real), 20, 0.01);
  EXPECT_NEAR(absl::ToDoubleSeconds(e.domain), 1200, 1);
}

TEST(EstimatePrecopyTest, DirtyRateAboveBandwidthRunsEveryRound) {
  PrecopyInputs in;
  in.data_bytes = 1000;
  in.measured_bandwidth = 100;
  in.dirty_bytes_per_second = 500;
  in.safety = 1;
  in.max_rounds = 10;
  EXPECT_EQ(EstimatePrecopy(in).real, absl::Seconds(100));
}

TEST(EstimatePrecopyTest, NothingToMove) {
  PrecopyInputs in;
  in.data_bytes = 0;
  EXPECT_EQ(EstimatePrecopy(in).domain, absl::ZeroDuration());
}

TEST(PlanCutoverTest, CutoverLandsAtTheTroughBeforeTheShift) {
  // The target wins from 10:00. Demand dips at 06:00; pre-copy takes 30 min.
  const std::vector<double> requests = {500, 400, 300, 200, 150, 120, 80, 90, 200, 400, 600, 700};
  const absl::Time now = kHour0 + absl::Minutes(10);
  const CutoverTiming t = PlanCutover(now, absl::Minutes(30), Outlook(requests, 10));
  ASSERT_TRUE(t.shift_at.has_value());
  EXPECT_EQ(*t.shift_at, kHour0 + absl::Hours(10));
  EXPECT_EQ(t.cutover_at, kHour0 + absl::Hours(6));
  EXPECT_EQ(t.start_at, kHour0 + absl::Hours(6) - absl::Minutes(30));
  EXPECT_FALSE(t.late);
  EXPECT_DOUBLE_EQ(t.requests_at_cutover, 80);
  EXPECT_DOUBLE_EQ(t.demand_ratio_at_cutover, 80.0 / 500);
  EXPECT_TRUE(t.hold) << "the migration waits for the trough";
  EXPECT_NE(t.why.find("trough"), std::string::npos) << t.why;
}

TEST(PlanCutoverTest, LargerDataStartsEarlier) {
  const std::vector<double> requests = {500, 400, 300, 200, 150, 120, 80, 90, 200, 400, 600, 700};
  const absl::Time now = kHour0 + absl::Minutes(10);
  const CutoverTiming small = PlanCutover(now, absl::Minutes(30), Outlook(requests, 10));
  const CutoverTiming large = PlanCutover(now, absl::Hours(4), Outlook(requests, 10));
  EXPECT_EQ(small.cutover_at, large.cutover_at);  // the same trough, still reachable
  EXPECT_LT(large.start_at, small.start_at);
  EXPECT_EQ(large.start_at, kHour0 + absl::Hours(2));
}

TEST(PlanCutoverTest, TroughOutOfReachTakesTheBestReachableHour) {
  // Pre-copy of 7 h: only 07:10..09:59 remain before the 10:00 shift; 07:xx has 90 requests.
  const std::vector<double> requests = {500, 400, 300, 200, 150, 120, 80, 90, 200, 400, 600, 700};
  const absl::Time now = kHour0 + absl::Minutes(10);
  const CutoverTiming t = PlanCutover(now, absl::Hours(7), Outlook(requests, 10));
  EXPECT_EQ(t.cutover_at, now + absl::Hours(7));
  EXPECT_EQ(t.start_at, now);
  EXPECT_DOUBLE_EQ(t.requests_at_cutover, 90);
  EXPECT_FALSE(t.hold) << "cut over as soon as pre-copy is done";
}

TEST(PlanCutoverTest, ShiftBeforePrecopyEndsStartsAtOnceAndSaysHowLate) {
  const std::vector<double> requests(12, 100);
  const absl::Time now = kHour0 + absl::Minutes(10);
  const CutoverTiming t = PlanCutover(now, absl::Hours(3), Outlook(requests, 2));
  EXPECT_EQ(t.start_at, now);
  EXPECT_EQ(t.cutover_at, now + absl::Hours(3));
  EXPECT_TRUE(t.late);
  EXPECT_FALSE(t.hold);
  EXPECT_EQ(t.late_by, absl::Hours(1) + absl::Minutes(10));
  EXPECT_NE(t.why.find("late"), std::string::npos) << t.why;
}

TEST(PlanCutoverTest, TargetCheaperNowCutsOverWhenPrecopyEnds) {
  const std::vector<double> requests = {100, 10, 10, 10};
  const absl::Time now = kHour0 + absl::Minutes(10);
  const CutoverTiming t = PlanCutover(now, absl::Minutes(20), Outlook(requests, 0));
  EXPECT_FALSE(t.shift_at.has_value());
  EXPECT_FALSE(t.late);
  EXPECT_FALSE(t.hold);
  EXPECT_EQ(t.start_at, now);
  EXPECT_EQ(t.cutover_at, now + absl::Minutes(20));
}

TEST(PlanCutoverTest, ABlackoutWindowIsNeverChosen) {
  const std::vector<double> requests = {500, 400, 300, 200, 150, 120, 80, 90, 200, 400, 600, 700};
  const absl::Time now = kHour0 + absl::Minutes(10);
  // The trough (06:00-07:59) is blacked out until 07:30: its end is the best moment left.
  const std::vector<BlackoutWindow> blackouts = {
      {kHour0 + absl::Hours(6), kHour0 + absl::Hours(7) + absl::Minutes(30)}};
  const CutoverTiming t = PlanCutover(now, absl::Minutes(30), Outlook(requests, 10), blackouts);
  EXPECT_EQ(t.cutover_at, kHour0 + absl::Hours(7) + absl::Minutes(30));
  EXPECT_DOUBLE_EQ(t.requests_at_cutover, 90);
  // Blacked out all the way to the shift: pre-copy's end stands (the blackout gate decides).
  const std::vector<BlackoutWindow> all = {{now, kHour0 + absl::Hours(12)}};
  EXPECT_EQ(PlanCutover(now, absl::Minutes(30), Outlook(requests, 10), all).cutover_at,
            now + absl::Minutes(30));
}

TEST(PlanCutoverTest, EqualTroughsTakeTheEarliest) {
  const std::vector<double> requests = {100, 50, 50, 50, 100, 100};
  const absl::Time now = kHour0;
  const CutoverTiming t = PlanCutover(now, absl::Minutes(15), Outlook(requests, 5));
  EXPECT_EQ(t.cutover_at, kHour0 + absl::Hours(1));
}

}  // namespace
}  // namespace shadowplane::planner
