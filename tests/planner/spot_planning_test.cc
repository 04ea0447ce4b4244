// Spot in the planner (src/planner/spot_prices.h, src/planner/move_decision.h) on a simulated
// clock: prices expected from reports, the interruption risk, spot preferred only where it is
// cheaper enough after that risk, the way back only after spot stayed available for
// --spot_return_after, and flapping availability never driving planned moves past the daily cap.
#include <gtest/gtest.h>

#include <cmath>

#include "planner/move_decision.h"
#include "planner/move_decision_fixture.h"
#include "planner/spot_prices.h"

namespace shadowplane::planner {
namespace {

store::PriceRecord Observation(absl::Time at, double spot_vcpu,
                               std::optional<double> availability) {
  store::PriceRecord p;
  p.location = "fra";
  p.observed_at = at;
  p.on_demand_price_per_vcpu_hour = 0.04;
  p.on_demand_price_per_gib_hour = 0.005;
  if (spot_vcpu >= 0) {
    p.spot_price_per_vcpu_hour = spot_vcpu;
    p.spot_price_per_gib_hour = spot_vcpu / 8;
  }
  p.spot_availability = availability;
  return p;
}

TEST(SpotPricesTest, TheLatestStandsUntilEnoughHistoryGivesATrailingMean) {
  LocationFacts f;
  f.spot_availability = 0.9;  // the catalog's
  store::PriceHistory h;
  h.observations = {Observation(kStart, 0.012, std::nullopt)};
  ApplyPriceHistory(h, &f);
  EXPECT_EQ(f.price_basis, "latest");
  EXPECT_EQ(*f.spot_price_per_vcpu_hour, 0.012);
  EXPECT_EQ(f.spot_availability, 0.9) << "an unreported availability leaves the catalog's";
  EXPECT_EQ(*f.prices_observed_at, kStart);

  h.observations.clear();
  for (int i = 0; i < 5; ++i) {
    h.observations.push_back(Observation(kStart + absl::Hours(4 * i), 0.01 + 0.001 * i, 0.8));
  }
  LocationFacts mean;
  ApplyPriceHistory(h, &mean);
  EXPECT_EQ(mean.price_basis, "trailing_mean_of_5");
  EXPECT_NEAR(*mean.spot_price_per_vcpu_hour, 0.012, 1e-12);
  EXPECT_EQ(mean.spot_availability, 0.8);

  h.observations.push_back(Observation(kStart + absl::Hours(17), -1, std::nullopt));
  LocationFacts gone;
  gone.spot_price_per_vcpu_hour = 0.01;
  gone.spot_price_per_gib_hour = 0.001;
  gone.spot_availability = 0.9;
  ApplyPriceHistory(h, &gone);
  EXPECT_FALSE(gone.spot_price_per_vcpu_hour.has_value()) << "the latest offers no spot";
  EXPECT_EQ(gone.spot_availability, 0);
}

TEST(SpotPricesTest, TheChanceOfAnInterruptionGrowsWithTheHorizon) {
  EXPECT_NEAR(InterruptionProbability(0.9, absl::Hours(24)), 0.1, 1e-12);
  EXPECT_NEAR(InterruptionProbability(0.9, absl::Hours(48)), 0.19, 1e-12);
  EXPECT_EQ(InterruptionProbability(1, absl::Hours(48)), 0);
  EXPECT_EQ(InterruptionProbability(0, absl::Hours(1)), 1);
  EXPECT_EQ(InterruptionProbability(std::nan(""), absl::Hours(1)), 1);
}

class SpotPlanningTest : public MoveDecisionTest {
 protected:
  SpotPlanningTest() {
    subject_.wants_spot = true;
    subject_.allowed_locations = {"fra"};
    OfferSpot(0.012, 0.95);
  }
  void OfferSpot(double vcpu_price, double availability) {
    locations_["fra"].spot_price_per_vcpu_hour = vcpu_price;
    locations_["fra"].spot_price_per_gib_hour = 0.0015;
    locations_["fra"].spot_availability = availability;
  }
  static const CandidateExplanation* Spot(const PlanDecision& d) {
    for (const CandidateExplanation& c : d.candidates) {
      if (c.location == "fra" && c.capacity_type == CapacityType::kSpot) return &c;
    }
    return nullptr;
  }
  static const GateCheck* Gate(const CandidateExplanation& c, PlanGate gate) {
    for (const GateCheck& g : c.gates) {
      if (g.gate == gate) return &g;
    }
    return nullptr;
  }
};

TEST_F(SpotPlanningTest, SpotMuchCheaperAtTheSameLocationIsAMoveWithItsRiskExplained) {
  const PlanDecision d = Decide(Steady(kStart, 10000, 0), kStart);
  ASSERT_EQ(d.outcome, PlanOutcome::kMove) << d.reason;
  EXPECT_EQ(d.to_location, "fra");
  EXPECT_EQ(d.from_capacity_type, CapacityType::kOnDemand);
  EXPECT_EQ(d.to_capacity_type, CapacityType::kSpot);
  EXPECT_NE(d.reason.find("fra (on_demand) -> fra (spot)"), std::string::npos) << d.reason;
  const CandidateExplanation* spot = Spot(d);
  ASSERT_NE(spot, nullptr);
  EXPECT_NEAR(spot->terms.interruption_probability, 0.05, 1e-12);
  EXPECT_NEAR(spot->terms.spot_risk, 0.05 * spot->move_cost, 1e-12);
  EXPECT_NEAR(spot->terms.compute, 24 * (0.012 + 0.0015), 1e-9);
  const GateCheck* gate = Gate(*spot, PlanGate::kSpot);
  ASSERT_NE(gate, nullptr);
  EXPECT_TRUE(gate->passed) << gate->detail;
  EXPECT_EQ(spot->price_basis, "catalog");
}

TEST_F(SpotPlanningTest, SpotThatIsNotCheaperEnoughAfterItsRiskIsNotUsed) {
  OfferSpot(0.034, 0.95);  // 15% off on-demand's vCPU price: below the 30% asked
  PlanDecision d = Decide(Steady(kStart, 10000, 0), kStart);
  EXPECT_EQ(d.outcome, PlanOutcome::kStay) << d.reason;
  ASSERT_NE(Spot(d), nullptr);
  EXPECT_FALSE(Gate(*Spot(d), PlanGate::kSpot)->passed);

  // Cheap, but so likely to go, with so much data to move back, that the risk eats the discount.
  OfferSpot(0.012, 0.05);
  subject_.move.data_bytes = 200'000'000'000;
  d = Decide(Steady(kStart, 10000, 0), kStart);
  EXPECT_EQ(d.outcome, PlanOutcome::kStay) << d.reason;
  const GateCheck* gate = Gate(*Spot(d), PlanGate::kSpot);
  EXPECT_FALSE(gate->passed) << gate->detail;
  EXPECT_NE(gate->detail.find("95.0% over the horizon"), std::string::npos) << gate->detail;

  // A reservation that does not ask for spot never gets it.
  subject_.wants_spot = false;
  OfferSpot(0.004, 0.99);
  subject_.move.data_bytes = 1'000'000'000;
  d = Decide(Steady(kStart, 10000, 0), kStart);
  EXPECT_EQ(Spot(d), nullptr);
  EXPECT_EQ(d.outcome, PlanOutcome::kStay);
}

TEST_F(SpotPlanningTest, TheWayBackWaitsUntilSpotStayedAvailableForTheReturnDelay) {
  // Fell back to on-demand at fra an hour after kStart; spot offered again from 3 h.
  MoveHistory& h = subject_.history;
  h.migration_starts = {kStart + absl::Hours(1)};
  h.last_migration_finished = kStart + absl::Hours(1);
  h.left_at = kStart + absl::Hours(1);
  h.last_left_location = "fra";
  h.last_left_capacity_type = CapacityType::kSpot;
  subject_.settings.anti_flapping.return_cooldown = absl::ZeroDuration();
  locations_["fra"].spot_available_since = kStart + absl::Hours(3);
  context_.spot_return_after = absl::Hours(1);

  PlanDecision d =
      Decide(Steady(kStart + absl::Minutes(210), 10000, 0), kStart + absl::Minutes(210));
  EXPECT_EQ(d.outcome, PlanOutcome::kStay) << d.reason;
  ASSERT_TRUE(d.blocking.has_value());
  EXPECT_EQ(*d.blocking, PlanGate::kSpot) << d.reason;
  EXPECT_NE(d.reason.find("available again for 30 min (at least 60 min needed)"), std::string::npos)
      << d.reason;

  d = Decide(Steady(kStart + absl::Minutes(241), 10000, 0), kStart + absl::Minutes(241));
  ASSERT_EQ(d.outcome, PlanOutcome::kMove) << d.reason;
  EXPECT_EQ(d.to_capacity_type, CapacityType::kSpot);
}

// Spot at fra comes and goes every few hours for a week. Each time it goes while the resource
// runs on it, a forced fallback moves it to on-demand (counted in its history like any move);
// each planned move back is the planner's decision. Planned moves never exceed the daily cap,
// whatever the fallbacks.
TEST_F(SpotPlanningTest, FlappingSpotNeverDrivesPlannedMovesPastTheDailyCap) {
  context_.spot_return_after = absl::Hours(1);
  subject_.settings.anti_flapping.min_dwell = absl::Minutes(30);
  subject_.settings.anti_flapping.return_cooldown = absl::ZeroDuration();
  const int cap = subject_.settings.anti_flapping.max_moves_per_day;
  std::vector<absl::Time> planned, forced;
  std::optional<absl::Time> gone_since, back_since = kStart;
  for (int step = 0; step < 7 * 24 * 4; ++step) {  // every 15 minutes
    const absl::Time now = kStart + absl::Minutes(15 * step);
    // Available for 1.5 h, gone for 0.75 h, over and over.
    const bool available = step % 9 < 6;
    if (!available && !gone_since) {
      gone_since = now;
      back_since.reset();
      if (subject_.capacity.type == CapacityType::kSpot) {
        forced.push_back(now);
        subject_.capacity.type = CapacityType::kOnDemand;
        subject_.history.migration_starts.push_back(now);
        subject_.history.last_migration_finished = now;
        subject_.history.left_at = now;
        subject_.history.last_left_location = "fra";
        subject_.history.last_left_capacity_type = CapacityType::kSpot;
      }
    } else if (available && !back_since) {
      back_since = now;
      gone_since.reset();
    }
    LocationFacts& fra = locations_["fra"];
    if (available) {
      OfferSpot(0.012, 0.95);
    } else {
      fra.spot_price_per_vcpu_hour.reset();
      fra.spot_price_per_gib_hour.reset();
      fra.spot_availability = 0;
    }
    fra.spot_available_since = back_since;
    const PlanDecision d = Decide(Steady(now, 10000, 0), now);
    if (d.outcome != PlanOutcome::kMove) continue;
    ASSERT_EQ(d.to_capacity_type, CapacityType::kSpot) << d.reason;
    planned.push_back(now);
    subject_.capacity.type = d.to_capacity_type;
    subject_.history.migration_starts.push_back(now);
    subject_.history.last_migration_finished = now;
    subject_.history.left_at = now;
    subject_.history.last_left_capacity_type = CapacityType::kOnDemand;
  }
  ASSERT_FALSE(planned.empty()) << "the way back to spot was never taken";
  ASSERT_FALSE(forced.empty());
  for (absl::Time t : planned) {
    int in_day = 0;
    for (absl::Time u : planned) in_day += (u <= t && t - u < absl::Hours(24));
    EXPECT_LE(in_day, cap) << "planned moves in the 24 h up to " << absl::FormatTime(t);
  }
  // Forced fallbacks count in the cap: planned and forced moves together stay within it too,
  // except where a fallback was forced past it.
  for (absl::Time t : planned) {
    int all = 0;
    for (absl::Time u : planned) all += (u <= t && t - u < absl::Hours(24));
    for (absl::Time u : forced) all += (u < t && t - u < absl::Hours(24));
    EXPECT_LE(all, cap) << "a planned move at " << absl::FormatTime(t) << " beyond the cap";
  }
}

}  // namespace
}  // namespace shadowplane::planner
