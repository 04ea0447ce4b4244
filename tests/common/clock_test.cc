#include "common/clock.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace shadowplane {
namespace {

const absl::Time kEpoch = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z

TEST(FakeClockTest, MovesOnlyWhenTold) {
  FakeClock clock(kEpoch);
  EXPECT_EQ(clock.Now(), kEpoch);
  clock.Advance(absl::Hours(3));
  EXPECT_EQ(clock.Now(), kEpoch + absl::Hours(3));
  clock.Set(kEpoch - absl::Minutes(1));
  EXPECT_EQ(clock.Now(), kEpoch - absl::Minutes(1));
}

TEST(ScaledClockTest, ScalesElapsedTimeAroundTheEpoch) {
  FakeClock base(kEpoch);
  ScaledClock clock(&base, kEpoch, 60.0);
  EXPECT_EQ(clock.Now(), kEpoch);
  base.Advance(absl::Seconds(10));
  EXPECT_EQ(clock.Now(), kEpoch + absl::Minutes(10));
  base.Set(kEpoch - absl::Seconds(1));  // before the epoch, domain time runs back faster too
  EXPECT_EQ(clock.Now(), kEpoch - absl::Minutes(1));
}

TEST(ScaledClockTest, TwoClocksWithTheSameEpochAndScaleAgree) {
  // Two processes read the same real time through their own clocks: they must agree exactly.
  FakeClock real(kEpoch + absl::Hours(1234) + absl::Nanoseconds(987654321));
  ScaledClock a(&real, kEpoch, 3600.0);
  ScaledClock b(&real, kEpoch, 3600.0);
  EXPECT_EQ(a.Now(), b.Now());
  EXPECT_EQ(a.Now() - kEpoch, (real.Now() - kEpoch) * 3600.0);
  // A different epoch gives a different domain time: the epoch must be shared.
  ScaledClock c(&real, kEpoch + absl::Seconds(1), 3600.0);
  EXPECT_NE(a.Now(), c.Now());
}

TEST(MakeDomainClockTest, ScaleOneIsRealTime) {
  auto clock = MakeDomainClock(1.0, "");
  ASSERT_TRUE(clock.ok()) << clock.status();
  const absl::Time before = absl::Now();
  const absl::Time now = (*clock)->Now();
  EXPECT_GE(now, before);
  EXPECT_LE(now, absl::Now());
}

TEST(MakeDomainClockTest, ScaledNeedsAnEpoch) {
  auto clock = MakeDomainClock(60.0, "");
  ASSERT_FALSE(clock.ok());
  EXPECT_EQ(clock.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(clock.status().message().find("time_epoch"), std::string::npos);
}

TEST(MakeDomainClockTest, ParsesTheEpoch) {
  auto clock = MakeDomainClock(60.0, "2026-01-01T00:00:00Z");
  ASSERT_TRUE(clock.ok()) << clock.status();
  const auto* scaled = dynamic_cast<const ScaledClock*>(clock->get());
  ASSERT_NE(scaled, nullptr);
  EXPECT_EQ(scaled->epoch(), kEpoch);
  EXPECT_EQ(scaled->scale(), 60.0);
}

TEST(MakeDomainClockTest, RejectsBadValues) {
  for (double scale : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    auto clock = MakeDomainClock(scale, "2026-01-01T00:00:00Z");
    EXPECT_EQ(clock.status().code(), absl::StatusCode::kInvalidArgument) << scale;
    EXPECT_NE(clock.status().message().find("time_scale"), std::string::npos);
  }
  auto bad_epoch = MakeDomainClock(2.0, "yesterday");
  EXPECT_EQ(bad_epoch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_epoch.status().message().find("yesterday"), std::string::npos);
}

}  // namespace
}  // namespace shadowplane
