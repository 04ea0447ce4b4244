// The planner's pure decision (src/planner/move_decision.h) on constructed forecasts and a
// simulated clock: moves ahead of a demand shift, none around a tie, none that cannot repay their
// cost, the threshold's edge, pin, blackout, recommend mode, the return cooldown, cold start.
#include "planner/move_decision.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "planner/move_decision_fixture.h"
#include "planner/planner_settings.h"

namespace shadowplane::planner {
namespace {

TEST_F(MoveDecisionTest, DemandThatMovedAwayMovesTheResourceWithItsCostsExplained) {
  const PlanDecision d = Decide(Steady(kStart, 1000, 100000), kStart);
  ASSERT_EQ(d.outcome, PlanOutcome::kMove) << d.reason;
  EXPECT_EQ(d.to_location, "iad");
  EXPECT_DOUBLE_EQ(d.confidence, 1.0);
  ASSERT_EQ(d.candidates.size(), 2u);
  const CandidateExplanation& here = d.candidates[0];
  const CandidateExplanation& there = d.candidates[1];
  EXPECT_TRUE(here.current);
  // By hand: 24 h of 1 vCPU at $0.04 and 1 GiB at $0.005; 10 W at $0.1/kWh.
  EXPECT_NEAR(here.terms.compute, 24 * (0.04 + 0.005), 1e-9);
  EXPECT_NEAR(here.terms.electricity, 24 * 0.01 * 0.1, 1e-9);
  // Egress: 101,000 requests of 2 kB at $0.01/GB, the same at both locations.
  EXPECT_NEAR(here.terms.egress, 101000 * 2000 / 1e9 * 0.01, 1e-12);
  EXPECT_NEAR(there.terms.egress, here.terms.egress, 1e-12);
  // Latency: requests × RTT ms × $5e-7.
  const double rtt_us_fra = rtt_.RttMs("us", regions_["us"].at, "fra", locations_["fra"].at);
  const double rtt_eu_fra = rtt_.RttMs("eu", regions_["eu"].at, "fra", locations_["fra"].at);
  EXPECT_NEAR(here.terms.latency, (100000 * rtt_us_fra + 1000 * rtt_eu_fra) * 5e-7, 1e-9);
  // The move: 1 GB at the source's $0.01/GB, plus 0.1 s of 101,000/24 requests an hour at $0.001.
  EXPECT_NEAR(there.move_cost, 0.01 + 0.1 / 3600 * (101000.0 / 24) * 0.001, 1e-12);
  EXPECT_NEAR(there.expected_saving,
              here.terms.expected_total() - there.terms.expected_total() - there.move_cost, 1e-9);
  EXPECT_EQ(there.confidence_source, "sample_paths");
  for (const GateCheck& g : d.gates) EXPECT_TRUE(g.passed) << PlanGateName(g.gate) << g.detail;
}

TEST_F(MoveDecisionTest, AShiftAtAPredictableTimeIsMetBeforeItHappens) {
  // Ten quiet days with 90% of the requests from eu, then within six hours 90% from us (a
  // campaign launch, a market opening): us overtakes eu three hours into the ramp. Every hourly
  // tick sees 100 sample paths of the next 24 hours: the truth with 15% noise per path and region.
  const absl::Time ramp = kStart + absl::Hours(240);
  const absl::Time overtaken = ramp + absl::Hours(3);
  auto rate = [&](absl::Time t, bool us) {
    const double x = std::clamp(absl::ToDoubleHours(t - ramp) / 6.0, 0.0, 1.0);
    return 100000.0 * (us ? 0.1 + 0.8 * x : 0.9 - 0.8 * x);
  };
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> noise(0, 0.15);
  std::optional<absl::Time> moved_at;
  for (absl::Time now = kStart; now < ramp + absl::Hours(48); now += absl::Hours(1)) {
    std::vector<std::pair<double, double>> paths;
    for (int p = 0; p < 100; ++p) {
      double eu = 0, us = 0;
      for (int h = 0; h < 24; ++h) {
        eu += rate(now + absl::Hours(h), false);
        us += rate(now + absl::Hours(h), true);
      }
      paths.push_back({eu * noise(rng), us * noise(rng)});
    }
    const PlanDecision d = Decide(Outlook(now, paths), now);
    if (d.outcome == PlanOutcome::kMove) {
      ASSERT_EQ(d.to_location, "iad");
      moved_at = now;
      break;
    }
  }
  ASSERT_TRUE(moved_at.has_value()) << "never moved";
  // The cutover comes within decision_to_cutover (30 min) of the decision: before us overtakes.
  EXPECT_LT(*moved_at + context_.decision_to_cutover, overtaken);
  // Not while eu still dominates the whole horizon.
  EXPECT_GT(*moved_at, ramp - absl::Hours(24));
}

TEST_F(MoveDecisionTest, NoiseAroundATieMakesNoMoveInThirtyDays) {
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> noise(0, 0.2);
  std::normal_distribution<double> drift(0, 0.05);
  int moves = 0;
  for (absl::Time now = kStart; now < kStart + absl::Hours(24 * 30); now += absl::Minutes(60)) {
    // The point forecast itself wobbles around the tie from tick to tick.
    const double tilt = drift(rng);
    std::vector<std::pair<double, double>> paths;
    for (int p = 0; p < 200; ++p) {
      paths.push_back({24000 * (1 + tilt) * noise(rng), 24000 * (1 - tilt) * noise(rng)});
    }
    const PlanDecision d = Decide(Outlook(now, paths), now);
    if (d.outcome == PlanOutcome::kMove) {
      ++moves;
      subject_.history.migration_starts.push_back(now);
      subject_.history.last_migration_finished = now;
      subject_.history.last_left_location = subject_.current_location;
      subject_.history.left_at = now;
      subject_.current_location = d.to_location;
    }
  }
  EXPECT_EQ(moves, 0);
}

TEST_F(MoveDecisionTest, AMoveWhoseSavingCannotRepayItsCostIsNotMade) {
  // A modest pull towards us (saving about $0.4 a day) against 100 TB to copy ($1,000).
  subject_.move.data_bytes = 100'000'000'000'000;
  const PlanDecision d = Decide(Steady(kStart, 20000, 40000), kStart);
  EXPECT_EQ(d.outcome, PlanOutcome::kStay) << d.reason;
  ASSERT_EQ(d.candidates.size(), 2u);
  EXPECT_LT(d.candidates[1].expected_saving, 0);
  EXPECT_EQ(d.candidates[1].confidence, 0);
  EXPECT_TRUE(d.blocking.has_value());
  // The same demand with a small resource moves.
  subject_.move.data_bytes = 1'000'000;
  EXPECT_EQ(Decide(Steady(kStart, 20000, 40000), kStart).outcome, PlanOutcome::kMove);
}

TEST_F(MoveDecisionTest, ConfidenceJustUnderTheThresholdBlocksAndJustOverPasses) {
  // 100 paths: 80 in which us dominates (the move pays), 20 in which eu does.
  std::vector<std::pair<double, double>> paths;
  for (int p = 0; p < 80; ++p) paths.push_back({1000, 100000});
  for (int p = 0; p < 20; ++p) paths.push_back({100000, 1000});
  const DemandOutlook demand = Outlook(kStart, paths);

  subject_.settings.migration_threshold = 0.81;
  PlanDecision d = Decide(demand, kStart);
  EXPECT_EQ(d.outcome, PlanOutcome::kStay) << d.reason;
  EXPECT_TRUE(Blocks(d, PlanGate::kThreshold)) << d.reason;
  EXPECT_DOUBLE_EQ(d.candidates[1].confidence, 0.8);

  subject_.settings.migration_threshold = 0.79;
  d = Decide(demand, kStart);
  EXPECT_EQ(d.outcome, PlanOutcome::kMove) << d.reason;
  EXPECT_DOUBLE_EQ(d.confidence, 0.8);
  // The spread of savings shows the 20 paths in which the move loses.
  EXPECT_LT(d.candidates[1].saving.p10, 0);
  EXPECT_GT(d.candidates[1].saving.p50, 0);
}

TEST_F(MoveDecisionTest, APinnedResourceAndABlackoutWindowHold) {
  const DemandOutlook demand = Steady(kStart, 1000, 100000);
  subject_.settings.pinned_location = "fra";
  PlanDecision d = Decide(demand, kStart);
  EXPECT_EQ(d.outcome, PlanOutcome::kBlocked);
  EXPECT_TRUE(Blocks(d, PlanGate::kPinned)) << d.reason;
  EXPECT_EQ(d.to_location, "iad");  // what it would have done, for the explanation

  subject_.settings.pinned_location.clear();
  // Inside a window, and one starting before the cutover could be done: both block.
  for (absl::Duration offset : {-absl::Hours(1), absl::Minutes(10)}) {
    subject_.settings.blackouts = {{kStart + offset, kStart + offset + absl::Hours(2)}};
    d = Decide(demand, kStart);
    EXPECT_EQ(d.outcome, PlanOutcome::kBlocked);
    EXPECT_TRUE(Blocks(d, PlanGate::kBlackout)) << d.reason;
  }
  // A window that ended, or starts after the cutover's window: no block.
  for (absl::Duration offset : {-absl::Hours(3), absl::Hours(1)}) {
    subject_.settings.blackouts = {{kStart + offset, kStart + offset + absl::Hours(2)}};
    EXPECT_EQ(Decide(demand, kStart).outcome, PlanOutcome::kMove);
  }
}

TEST_F(MoveDecisionTest, RecommendModeRecordsAndNeverActsAndOffIsNotPlanned) {
  subject_.settings.mode = PlannerMode::kRecommend;
  PlanDecision d = Decide(Steady(kStart, 1000, 100000), kStart);
  EXPECT_EQ(d.outcome, PlanOutcome::kRecommend);
  EXPECT_EQ(d.to_location, "iad");
  EXPECT_TRUE(Blocks(d, PlanGate::kMode));
  subject_.settings.mode = PlannerMode::kOff;
  d = Decide(Steady(kStart, 1000, 100000), kStart);
  EXPECT_EQ(d.outcome, PlanOutcome::kBlocked);
  EXPECT_TRUE(Blocks(d, PlanGate::kMode));
}

TEST_F(MoveDecisionTest, TheCooldownStopsAnImmediateReturnUnlessTheSavingIsLarge) {
  subject_.history.last_left_location = "iad";
  subject_.history.left_at = kStart - absl::Hours(3);
  subject_.history.last_migration_finished = kStart - absl::Hours(3);
  subject_.history.migration_starts = {kStart - absl::Hours(3)};
  // A saving above the margin but under three times it.
  const DemandOutlook modest = Steady(kStart, 24000, 30000);
  PlanDecision d = Decide(modest, kStart);
  ASSERT_EQ(d.candidates.size(), 2u);
  const CandidateExplanation& iad = d.candidates[1];
  ASSERT_GT(iad.expected_saving, iad.margin) << d.reason;
  ASSERT_LT(iad.expected_saving, 3 * iad.margin) << d.reason;
  EXPECT_EQ(d.outcome, PlanOutcome::kStay);
  EXPECT_TRUE(Blocks(d, PlanGate::kCooldown)) << d.reason;
  // Large enough a saving returns at once; after the cooldown a modest one does.
  EXPECT_EQ(Decide(Steady(kStart, 1000, 100000), kStart).outcome, PlanOutcome::kMove);
  EXPECT_EQ(Decide(Steady(kStart + absl::Hours(4), 24000, 30000), kStart + absl::Hours(4)).outcome,
            PlanOutcome::kMove);
}

TEST_F(MoveDecisionTest, DwellDailyCapPauseAndFleetBudgetBlockAnAutomaticMove) {
  const DemandOutlook demand = Steady(kStart, 1000, 100000);
  subject_.history.last_migration_finished = kStart - absl::Minutes(30);
  EXPECT_TRUE(Blocks(Decide(demand, kStart), PlanGate::kDwell));
  subject_.history.last_migration_finished = kStart - absl::Hours(3);
  subject_.history.migration_starts.assign(4, kStart - absl::Hours(5));
  EXPECT_TRUE(Blocks(Decide(demand, kStart), PlanGate::kDailyCap));
  subject_.history.migration_starts.assign(4, kStart - absl::Hours(25));  // a day ago: not counted
  EXPECT_EQ(Decide(demand, kStart).outcome, PlanOutcome::kMove);
  context_.fleet.paused = true;
  EXPECT_TRUE(Blocks(Decide(demand, kStart), PlanGate::kPaused));
  context_.fleet.paused = false;
  context_.fleet.planned_moves_last_hour = context_.fleet.max_planned_moves_per_hour;
  EXPECT_TRUE(Blocks(Decide(demand, kStart), PlanGate::kFleetBudget));
  context_.fleet.planned_moves_last_hour = 0;
  subject_.history.migration_in_progress = true;
  EXPECT_TRUE(Blocks(Decide(demand, kStart), PlanGate::kMigrationInProgress));
}

TEST_F(MoveDecisionTest, NoStaleForecastCordonedOrUnpricedCandidatesAndNoRoom) {
  EXPECT_TRUE(Blocks(planner::Decide(subject_, nullptr, context_, kStart), PlanGate::kNoForecast));
  const DemandOutlook demand = Steady(kStart, 1000, 100000);
  EXPECT_TRUE(Blocks(Decide(demand, kStart + absl::Hours(3)), PlanGate::kStaleForecast));

  locations_["iad"].cordoned = true;
  PlanDecision d = Decide(demand, kStart);
  EXPECT_EQ(d.outcome, PlanOutcome::kStay);
  EXPECT_EQ(d.candidates[1].skipped, "cordoned");
  locations_["iad"].cordoned = false;

  locations_["iad"].bandwidth_price_per_gb = std::nan("");
  d = Decide(demand, kStart);
  EXPECT_EQ(d.outcome, PlanOutcome::kStay);
  EXPECT_EQ(d.candidates[1].skipped, "location iad has no bandwidth price per GB");
  locations_["iad"].bandwidth_price_per_gb = 0.01;

  locations_["iad"].used_millicores = locations_["iad"].capacity_millicores;
  d = Decide(demand, kStart);
  EXPECT_EQ(d.outcome, PlanOutcome::kStay);
  EXPECT_TRUE(Blocks(d, PlanGate::kCapacity)) << d.reason;
}

TEST_F(MoveDecisionTest, WithoutSamplePathsTheBestLocationChainDecidesOnlyBetweenEqualCosts) {
  DemandOutlook cold;
  cold.computed_at = kStart;
  cold.regions = {"eu", "us"};
  cold.expected_requests = {1000, 100000};
  cold.best_location_share = {{"fra", 0.1}, {"iad", 0.9}};
  PlanDecision d = Decide(cold, kStart);
  EXPECT_EQ(d.outcome, PlanOutcome::kMove) << d.reason;
  EXPECT_EQ(d.candidates[1].confidence_source, "best_location_chain");
  EXPECT_DOUBLE_EQ(d.confidence, 0.9);

  // iad's compute twice fra's: the chain says nothing about that, so it stays and says why.
  locations_["iad"].on_demand_price_per_vcpu_hour = 0.08;
  d = Decide(cold, kStart);
  EXPECT_EQ(d.outcome, PlanOutcome::kStay);
  EXPECT_EQ(d.candidates[1].confidence_source, "none");
  EXPECT_TRUE(Blocks(d, PlanGate::kThreshold)) << d.reason;
}

TEST_F(MoveDecisionTest, AFreshPlacementIsNotMovedWhenDemandIsAsItsClientsWereExpected) {
  // iad is cheaper to run, fra closer to most clients: placement weighs both in the planner's
  // units, so demand at the nominal rate spread as the clients were declared moves nothing.
  locations_["iad"].on_demand_price_per_vcpu_hour = 0.035;
  PlacementRequest request;
  request.capacity = subject_.capacity;
  request.client_regions = {{"eu", 0.7}, {"us", 0.3}};
  const CostModel model;  // the default prices, the same as PlanPrices'
  absl::StatusOr<Placement> placed = Place(request, locations_, regions_, rtt_, model);
  ASSERT_TRUE(placed.ok()) << placed.status();
  subject_.current_location = placed->primary_location;
  const double day = model.nominal_requests_per_hour * 24;
  const PlanDecision d = Decide(Steady(kStart, 0.7 * day, 0.3 * day), kStart);
  EXPECT_EQ(d.outcome, PlanOutcome::kStay) << d.reason;
  for (const CandidateExplanation& c : d.candidates) {
    if (!c.current) {
      EXPECT_LE(c.expected_saving, 0) << c.location;
    }
  }
}

TEST(PlannerSettingsTest, BadValuesAreRefusedNamingTheField) {
  struct Case {
    std::function<void(PlannerSettings&)> bad;
    std::string field;
  };
  const absl::Time t = kStart;
  const std::vector<Case> cases = {
      {[](PlannerSettings& s) { s.migration_threshold = std::nan(""); }, "migration_threshold"},
      {[](PlannerSettings& s) { s.migration_threshold = 1.01; }, "migration_threshold"},
      {[](PlannerSettings& s) { s.migration_threshold = -0.1; }, "migration_threshold"},
      {[](PlannerSettings& s) { s.horizon = absl::Minutes(5); }, "horizon"},
      {[](PlannerSettings& s) { s.anti_flapping.min_dwell = -absl::Hours(1); }, "min_dwell"},
      {[](PlannerSettings& s) { s.anti_flapping.max_moves_per_day = -1; }, "max_moves_per_day"},
      {[](PlannerSettings& s) { s.anti_flapping.hysteresis_relative = std::nan(""); },
       "hysteresis_relative"},
      {[](PlannerSettings& s) { s.anti_flapping.hysteresis_absolute = -1; }, "hysteresis_absolute"},
      {[](PlannerSettings& s) { s.anti_flapping.return_cooldown = -absl::Hours(1); },
       "return_cooldown"},
      {[](PlannerSettings& s) { s.anti_flapping.return_saving_multiple = INFINITY; },
       "return_saving_multiple"},
      {[t](PlannerSettings& s) {
         s.blackouts = {{t + absl::Hours(1), t}};
       },
       "blackouts"},
      {[t](PlannerSettings& s) {
         s.blackouts = {{t, t + absl::Hours(2)}, {t + absl::Hours(1), t + absl::Hours(3)}};
       },
       "blackouts"},
  };
  EXPECT_TRUE(PlannerSettings().Validate().ok());
  for (const Case& c : cases) {
    PlannerSettings s;
    c.bad(s);
    const absl::Status status = s.Validate("reservation.");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(status.message().find("reservation." + c.field), std::string::npos)
        << status.message();
  }
}

TEST(PlannerSettingsTest, OverridesLieOverTheDefaultsAndModesParse) {
  PlannerOverrides o;
  o.migration_threshold = 0.95;
  o.return_cooldown = absl::Hours(1);
  const PlannerSettings s = o.ApplyTo(PlannerSettings());
  EXPECT_EQ(s.migration_threshold, 0.95);
  EXPECT_EQ(s.anti_flapping.return_cooldown, absl::Hours(1));
  EXPECT_EQ(s.anti_flapping.min_dwell, absl::Hours(2));  // the default
  EXPECT_EQ(s.mode, PlannerMode::kRecommend);
  PlannerMode mode;
  EXPECT_TRUE(ParsePlannerMode("auto", &mode));
  EXPECT_EQ(mode, PlannerMode::kAuto);
  EXPECT_FALSE(ParsePlannerMode("Auto", &mode));
}

}  // namespace
}  // namespace shadowplane::planner
