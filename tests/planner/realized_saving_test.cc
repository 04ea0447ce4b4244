// Did a move pay? The realised saving against hand computations: demand that went where the
// move expected pays off; demand that stayed where it was does not.
#include "planner/realized_saving.h"

#include "gtest/gtest.h"

namespace shadowplane::planner {
namespace {

class RealizedSavingTest : public testing::Test {
 protected:
  void SetUp() override {
    regions_["eu"] = {"eu", {50.1, 8.7}};
    regions_["us"] = {"us", {38.9, -77.0}};
    for (auto [name, bandwidth] :
         {std::pair<const char*, double>{"fra-1", 0.01}, {"iad-1", 0.02}}) {
      LocationFacts& l = locations_[name];
      l.name = name;
      l.on_demand_price_per_vcpu_hour = 0.04;
      l.on_demand_price_per_gib_hour = 0.005;
      l.bandwidth_price_per_gb = bandwidth;
    }
    // Measured RTTs: 10 ms to the near location, 90 ms across the Atlantic.
    rtt_.SetMeasured("eu", "fra-1", 10);
    rtt_.SetMeasured("eu", "iad-1", 90);
    rtt_.SetMeasured("us", "fra-1", 90);
    rtt_.SetMeasured("us", "iad-1", 10);
    move_.old_capacity = move_.new_capacity = {1000, 1024, CapacityType::kOnDemand};
    move_.window = absl::Hours(24);
    move_.bytes_transferred = 10'000'000'000;  // 10 GB
    move_.freeze_seconds = 0.1;
    move_.requests_per_hour_at_move = 36000;
  }

  std::map<std::string, RegionFacts> regions_;
  std::map<std::string, LocationFacts> locations_;
  geo::RttModel rtt_;
  RealizedMove move_;
  PlanPrices prices_;  // 5e-7 $ per request-ms, $0.001 per delayed request
};

TEST_F(RealizedSavingTest, DemandThatWentWhereTheMoveExpectedPaysOff) {
  // fra-1 -> iad-1, and a million requests came from the US (100 kB each), ten thousand from EU.
  move_.requests = {{"us", 1e6}, {"eu", 1e4}};
  move_.bytes_per_request = {{"us", 1e5}};
  absl::StatusOr<RealizedSaving> s = RealizedSavingOf(
      locations_.at("fra-1"), locations_.at("iad-1"), move_, regions_, rtt_, prices_);
  ASSERT_TRUE(s.ok()) << s.status();
  // By hand. Compute is the same at both: 24 h × (1 vCPU × $0.04 + 1 GiB × $0.005) = $1.08.
  EXPECT_NEAR(s->old_terms.compute, 1.08, 1e-9);
  EXPECT_NEAR(s->new_terms.compute, 1.08, 1e-9);
  // Latency: fra-1 1e6 × 90 ms + 1e4 × 10 ms = 90.1e6 request-ms × 5e-7 = $45.05;
  //          iad-1 1e6 × 10 ms + 1e4 × 90 ms = 10.9e6 request-ms × 5e-7 = $5.45.
  EXPECT_NEAR(s->old_terms.latency, 45.05, 1e-9);
  EXPECT_NEAR(s->new_terms.latency, 5.45, 1e-9);
  // Egress: 1e6 × 100 kB = 100 GB, at $0.01 (fra-1) against $0.02 (iad-1).
  EXPECT_NEAR(s->old_terms.egress, 1.0, 1e-9);
  EXPECT_NEAR(s->new_terms.egress, 2.0, 1e-9);
  // The move: 10 GB at the source's $0.01 = $0.10, plus 0.1 s of 36000 requests an hour held,
  // 1 request × $0.001.
  EXPECT_NEAR(s->move_cost, 0.1 + 0.001, 1e-9);
  // (1.08 + 45.05 + 1.0) − (1.08 + 5.45 + 2.0) − 0.101 = 38.499.
  EXPECT_NEAR(s->saving, 38.499, 1e-9);
}

TEST_F(RealizedSavingTest, DisruptedAffineSessionsAreARealisedCostOfTheMove) {
  move_.requests = {{"us", 1e6}, {"eu", 1e4}};
  move_.bytes_per_request = {{"us", 1e5}};
  move_.disrupted_sessions = 300;
  prices_.disrupted_session_price = 0.01;
  absl::StatusOr<RealizedSaving> s = RealizedSavingOf(
      locations_.at("fra-1"), locations_.at("iad-1"), move_, regions_, rtt_, prices_);
  ASSERT_TRUE(s.ok()) << s.status();
  // As above, plus 300 sessions × $0.01.
  EXPECT_NEAR(s->move_cost, 0.1 + 0.001 + 3.0, 1e-9);
  EXPECT_NEAR(s->saving, 38.499 - 3.0, 1e-9);
}

TEST_F(RealizedSavingTest, DemandThatStayedWhereItWasDoesNotPayOff) {
  move_.requests = {{"eu", 1e6}, {"us", 1e4}};
  absl::StatusOr<RealizedSaving> s = RealizedSavingOf(
      locations_.at("fra-1"), locations_.at("iad-1"), move_, regions_, rtt_, prices_);
  ASSERT_TRUE(s.ok()) << s.status();
  // Latency: fra-1 $5.45, iad-1 $45.05 (as above, the regions swapped); no egress; move $0.101.
  EXPECT_NEAR(s->saving, 5.45 - 45.05 - 0.101, 1e-9);
  EXPECT_LT(s->saving, 0);
}

TEST_F(RealizedSavingTest, AMissingPriceOrAnUnknownRegionIsNotJudgedAsASaving) {
  move_.requests = {{"us", 1e6}, {"atlantis", 5e6}};  // the unknown region is left out
  absl::StatusOr<RealizedSaving> s = RealizedSavingOf(
      locations_.at("fra-1"), locations_.at("iad-1"), move_, regions_, rtt_, prices_);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_NEAR(s->old_terms.latency, 45.0, 1e-9);
  locations_["iad-1"].on_demand_price_per_vcpu_hour = 0;
  EXPECT_EQ(RealizedSavingOf(locations_.at("fra-1"), locations_.at("iad-1"), move_, regions_, rtt_,
                             prices_)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace shadowplane::planner
