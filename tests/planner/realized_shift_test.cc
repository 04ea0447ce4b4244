// When did the demand a move was made for arrive? Hand-made hours of demand where the cheapest
// location is plain: a move ahead of the shift, a late one, one for a shift that never came, and
// the errors.
#include "planner/realized_shift.h"

#include "gtest/gtest.h"

namespace shadowplane::planner {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'002'800);  // an hour's start

class RealizedShiftTest : public testing::Test {
 protected:
  void SetUp() override {
    regions_["eu"] = {"eu", {50.1, 8.7}};
    regions_["us"] = {"us", {38.9, -77.0}};
    regions_["ap"] = {"ap", {1.35, 103.8}};
    for (const char* name : {"fra-1", "iad-1", "sin-1"}) {
      LocationFacts& l = locations_[name];
      l.name = name;
      l.on_demand_price_per_vcpu_hour = 0.04;
      l.on_demand_price_per_gib_hour = 0.005;
    }
    // iad-1 is a little cheaper to run: with no demand it is the cheapest.
    locations_["iad-1"].on_demand_price_per_vcpu_hour = 0.039;
    for (const char* region : {"eu", "us", "ap"}) {
      for (const char* location : {"fra-1", "iad-1", "sin-1"}) {
        const bool near = (std::string(region) == "eu" && std::string(location) == "fra-1") ||
                          (std::string(region) == "us" && std::string(location) == "iad-1") ||
                          (std::string(region) == "ap" && std::string(location) == "sin-1");
        rtt_.SetMeasured(region, location, near ? 10 : 150);
      }
    }
    q_.old_location = "fra-1";
    q_.new_location = "iad-1";
    q_.old_capacity = q_.new_capacity = {1000, 1024, CapacityType::kOnDemand};
    q_.from = kT0;
    q_.until = kT0 + absl::Hours(12);
  }

  // `requests` requests from `region` in each of hours [from, to).
  void Demand(const std::string& region, int from, int to, double requests = 10000) {
    for (int h = from; h < to; ++h) {
      q_.demand.push_back({kT0 + absl::Hours(h), region, requests, requests * 1000});
    }
  }

  absl::StatusOr<RealizedShift> Shift() {
    return RealizedShiftOf(q_, locations_, regions_, rtt_, prices_);
  }

  std::map<std::string, RegionFacts> regions_;
  std::map<std::string, LocationFacts> locations_;
  geo::RttModel rtt_;
  PlanPrices prices_;  // 5e-7 $ per request-ms: 10,000 requests 140 ms nearer save $0.70 an hour
  ShiftQuestion q_;
};

TEST_F(RealizedShiftTest, AMoveAheadOfTheShiftLeadsItByTheDifference) {
  Demand("eu", 0, 6);
  Demand("ap", 6, 7);  // another location than the target is the cheapest in between
  Demand("us", 7, 12);
  q_.started_at = kT0 + absl::Hours(3) + absl::Minutes(30);
  absl::StatusOr<RealizedShift> s = Shift();
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->cheapest.size(), 12u);
  EXPECT_EQ(s->cheapest[0], "fra-1");
  EXPECT_EQ(s->cheapest[6], "sin-1");
  EXPECT_EQ(s->cheapest[7], "iad-1");
  ASSERT_TRUE(s->shift_at.has_value());
  EXPECT_EQ(*s->shift_at, kT0 + absl::Hours(7));
  EXPECT_EQ(s->lead(), absl::Hours(3) + absl::Minutes(30));
  EXPECT_FALSE(s->at_or_before);
}

TEST_F(RealizedShiftTest, ALateMoveHasTheShiftBeforeItsStart) {
  Demand("eu", 0, 4);
  Demand("us", 4, 12);
  q_.started_at = kT0 + absl::Hours(6) + absl::Minutes(15);
  absl::StatusOr<RealizedShift> s = Shift();
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->shift_at.has_value());
  EXPECT_EQ(*s->shift_at, kT0 + absl::Hours(4));
  EXPECT_EQ(s->lead(), -(absl::Hours(2) + absl::Minutes(15)));
  EXPECT_FALSE(s->at_or_before);
}

TEST_F(RealizedShiftTest, TheTargetCheapestThroughoutShiftedAtOrBeforeTheWindow) {
  Demand("us", 0, 12);
  q_.started_at = kT0 + absl::Hours(2);
  absl::StatusOr<RealizedShift> s = Shift();
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->shift_at.has_value());
  EXPECT_EQ(*s->shift_at, kT0);
  EXPECT_TRUE(s->at_or_before);
}

TEST_F(RealizedShiftTest, NoShiftWhenTheTargetNeverBecameTheCheapest) {
  Demand("eu", 0, 12);
  q_.started_at = kT0 + absl::Hours(1);
  absl::StatusOr<RealizedShift> s = Shift();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->shift_at.has_value());
  EXPECT_EQ(s->lead(), absl::ZeroDuration());
}

TEST_F(RealizedShiftTest, HoursWithoutDemandGoToTheCheapestToRun) {
  Demand("eu", 0, 3);  // then nothing: iad-1 runs cheapest
  q_.started_at = kT0 + absl::Hours(1);
  absl::StatusOr<RealizedShift> s = Shift();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->cheapest[2], "fra-1");
  EXPECT_EQ(s->cheapest[3], "iad-1");
  ASSERT_TRUE(s->shift_at.has_value());
  EXPECT_EQ(*s->shift_at, kT0 + absl::Hours(3));
}

TEST_F(RealizedShiftTest, ALocationWithoutPricesIsNoCandidateButTheMovesEndsMustHavePrices) {
  Demand("eu", 0, 6);
  Demand("ap", 6, 12);
  q_.started_at = kT0 + absl::Hours(1);
  locations_["sin-1"].on_demand_price_per_vcpu_hour = 0;
  absl::StatusOr<RealizedShift> s = Shift();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_NE(s->cheapest[8], "sin-1");
  locations_["iad-1"].on_demand_price_per_vcpu_hour = 0;
  EXPECT_EQ(Shift().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(RealizedShiftTest, BadQuestionsAreRefused) {
  q_.started_at = kT0;
  q_.new_location = "nowhere";
  EXPECT_EQ(Shift().status().code(), absl::StatusCode::kNotFound);
  q_.new_location = "iad-1";
  q_.until = q_.from;
  EXPECT_EQ(Shift().status().code(), absl::StatusCode::kInvalidArgument);
  q_.until = q_.from + absl::Hours(kMaxShiftHours + 1);
  EXPECT_EQ(Shift().status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shadowplane::planner
