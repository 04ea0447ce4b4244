// The trace-driven simulator: policies see only the past, static never moves, the same trace gives
// the same runs bit for bit (the real forecaster and planner included), and no policy beats the
// oracle on small generated traces.
#include "evaluation/simulator.h"

#include <gtest/gtest.h>

#include "evaluation/oracle.h"
#include "evaluation/test_location.h"

namespace shadowplane::evaluation {
namespace {

// A small follow-the-sun trace over two continents and the world it is served in.
struct Scenario {
  World world;
  DemandTrace trace;
};

Scenario Small(uint64_t seed, int days) {
  forecast::TraceProfile profile;
  profile.seed = seed;
  profile.start = absl::FromUnixSeconds(1736121600);  // Monday 2025-01-06 00:00 UTC
  profile.hours = days * 24;
  profile.regions = {{"us-east", 39.0, -77.5, -5, 2000}, {"eu-central", 50.1, 8.7, 1, 2000}};
  profile.campaigns_per_region_month = 2;
  absl::StatusOr<forecast::Trace> trace = forecast::GenerateTrace(profile);
  EXPECT_TRUE(trace.ok()) << trace.status();
  Scenario s;
  s.trace = DemandTraceOf(*trace, 20000);
  s.world.locations["iad"] = TestLocation("iad", {38.9, -77.0}, 0.040, 0.02, 0.12);
  s.world.locations["fra"] = TestLocation("fra", {50.1, 8.7}, 0.046, 0.02, 0.12);
  for (const forecast::TraceRegion& r : trace->regions) {
    s.world.regions[r.name] = {r.name, {r.latitude, r.longitude}};
  }
  s.world.prices.latency_price_per_request_ms = 2e-6;
  s.world.move.data_bytes = 2'000'000'000;
  s.world.move.expected_freeze_seconds = 0.1;
  // Spot at iad: about a third of on-demand, reclaimed about twice a week.
  SpotMarketOptions market;
  market.spikes_per_week = 2;
  absl::StatusOr<SpotSeries> spot = GenerateSpotMarket(market, profile.hours, seed);
  EXPECT_TRUE(spot.ok()) << spot.status();
  s.world.spot["iad"] = *std::move(spot);
  return s;
}

// Sample paths and history cut for speed; a 6-hour horizon, under which the planner follows this
// trace's daily shift (over a whole day the two regions weigh the same).
PredictiveOptions FastPredictive() {
  PredictiveOptions o;
  o.settings.horizon = absl::Hours(6);
  o.forecaster.sample_paths = 50;
  o.forecaster.history = absl::Hours(24 * 14);
  return o;
}

TEST(SimulatorTest, PoliciesSeeOnlyThePast) {
  Scenario s = Small(7, 3);
  absl::StatusOr<CostTable> table = CostTable::Build(s.world, s.trace);
  ASSERT_TRUE(table.ok()) << table.status();
  MoveLog moves;
  const PolicyView view(&s.world, &*table, &s.trace, 10, 0, &moves);
  EXPECT_TRUE(view.PastServe(9, 1).ok());
  EXPECT_EQ(view.PastServe(10, 1).status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(view.PastServe(-1, 1).status().code(), absl::StatusCode::kInternal);
  // Reclaims and spot prices are published at the hour's start: this hour's, never the next.
  EXPECT_TRUE(view.Reclaimed(10, 1).ok());
  EXPECT_EQ(view.Reclaimed(11, 1).status().code(), absl::StatusCode::kInternal);
  absl::StatusOr<store::PriceHistory> prices = view.SpotPrices("iad", 0);
  ASSERT_TRUE(prices.ok()) << prices.status();
  EXPECT_EQ(prices->observations.size(), 11u);
  EXPECT_EQ(prices->observations.back().observed_at, view.now());
  EXPECT_EQ(view.SpotPrices("fra", 0).status().code(), absl::StatusCode::kNotFound);
}

TEST(SimulatorTest, StaticNeverMovesAndIsChargedAsAConstantSchedule) {
  Scenario s = Small(7, 3);
  absl::StatusOr<CostTable> table = CostTable::Build(s.world, s.trace);
  ASSERT_TRUE(table.ok()) << table.status();
  std::unique_ptr<Policy> policy = StaticPolicy();
  absl::StatusOr<PolicyRun> run = Simulate(*policy, *table, s.world, s.trace, 1, 24);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->schedule, std::vector<int>(static_cast<size_t>(s.trace.hours()), 1));
  EXPECT_EQ(run->report.migrations, 0);
  absl::StatusOr<ScheduleReport> charged = Charge(*table, s.world, run->schedule, 1, 24);
  ASSERT_TRUE(charged.ok());
  EXPECT_DOUBLE_EQ(run->report.cost.total(), charged->cost.total());
  EXPECT_EQ(Simulate(*policy, *table, s.world, s.trace, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Simulate(*policy, *table, s.world, s.trace, 0, s.trace.hours()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SimulatorTest, ReclaimedSpotFallsBackToOnDemandAtOnce) {
  Scenario s = Small(7, 8);
  absl::StatusOr<CostTable> table = CostTable::Build(s.world, s.trace);
  ASSERT_TRUE(table.ok()) << table.status();
  const int spot = table->IndexOf("iad", CapacityType::kSpot);
  const int on_demand = table->IndexOf("iad");
  ASSERT_GE(spot, 0);
  int first_reclaim = -1;
  for (int h = 0; h < table->hours() && first_reclaim < 0; ++h) {
    if (table->Interrupted(h, spot)) first_reclaim = h;
  }
  ASSERT_GT(first_reclaim, 0) << "the market is reclaimed within the trace";
  // Static on spot stays until the reclaim, then is on-demand there for good.
  std::unique_ptr<Policy> policy = StaticPolicy();
  absl::StatusOr<PolicyRun> run = Simulate(*policy, *table, s.world, s.trace, spot);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->schedule[static_cast<size_t>(first_reclaim - 1)], spot);
  EXPECT_EQ(run->schedule[static_cast<size_t>(first_reclaim)], on_demand);
  EXPECT_EQ(run->schedule.back(), on_demand);
  EXPECT_EQ(run->report.migrations, 1);
  EXPECT_EQ(run->report.urgent_moves, 1);
  // The predictive run weighs spot as the planner does, goes onto it, and is never charged a
  // reclaimed hour (Charge would refuse the schedule).
  std::unique_ptr<Policy> predictive = PredictivePolicy(&s.world, FastPredictive());
  absl::StatusOr<PolicyRun> planned = Simulate(*predictive, *table, s.world, s.trace, on_demand);
  ASSERT_TRUE(planned.ok()) << planned.status();
  EXPECT_GT(planned->report.spot_share, 0);
  ASSERT_TRUE(planned->accuracy.has_value());
  EXPECT_GT(planned->accuracy->points, 0);
}

TEST(SimulatorTest, ForecastsAreScoredByHand) {
  DemandTrace trace;
  trace.regions = {"a", "b"};
  trace.requests = {{50, 50}, {100, 100}, {150, 50}, {0, 0}};  // totals 100, 200, 200, 0
  MadeForecast f;
  f.hour = 1;
  f.point = {100, 300, 0, 7};  // the last is past the trace
  f.low80 = {50, 250, 0, 0};
  f.high80 = {150, 350, 0, 9};
  // From hour 1: |100 − 200| / 300 × 200 = 66.67, |300 − 200| / 500 × 200 = 40, 0 for 0 and 0;
  // inside the interval: hour 3 only (0 within [0, 0]).
  std::optional<ForecastAccuracy> a = ScoreForecasts({f}, trace, 1);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->points, 3);
  EXPECT_NEAR(a->smape, (200.0 / 3 + 40) / 3, 1e-9);
  EXPECT_NEAR(a->coverage80, 1.0 / 3, 1e-12);
  // Hours before score_from are not scored.
  a = ScoreForecasts({f}, trace, 3);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->points, 1);
  EXPECT_FALSE(ScoreForecasts({}, trace, 0).has_value());
}

TEST(SimulatorTest, TheSameTraceGivesTheSameRunsBitForBit) {
  Scenario s = Small(11, 9);
  absl::StatusOr<CostTable> table = CostTable::Build(s.world, s.trace);
  ASSERT_TRUE(table.ok()) << table.status();
  std::vector<PolicyRun> first, second;
  for (std::vector<PolicyRun>* runs : {&first, &second}) {
    std::vector<std::unique_ptr<Policy>> policies;
    policies.push_back(StaticPolicy());
    policies.push_back(ReactivePolicy({}));
    policies.push_back(PredictivePolicy(&s.world, FastPredictive()));
    for (auto& p : policies) {
      absl::StatusOr<PolicyRun> run = Simulate(*p, *table, s.world, s.trace, 0, 96);
      ASSERT_TRUE(run.ok()) << p->name() << ": " << run.status();
      runs->push_back(*std::move(run));
    }
  }
  // Not a comparison of runs that never move: the predictive run decided moves of its own.
  int predictive_moves = 0;
  for (size_t h = 1; h < first[2].schedule.size(); ++h) {
    predictive_moves += first[2].schedule[h] != first[2].schedule[h - 1];
  }
  EXPECT_GT(predictive_moves, 0) << first[2].policy;
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].schedule, second[i].schedule) << first[i].policy;
    EXPECT_EQ(first[i].report.cost.total(), second[i].report.cost.total()) << first[i].policy;
    EXPECT_EQ(first[i].report.migrations, second[i].report.migrations) << first[i].policy;
  }
}

TEST(SimulatorTest, NoPolicyBeatsTheOracle) {
  int moved = 0;
  for (uint64_t seed : {3, 5}) {
    Scenario s = Small(seed, 8);
    absl::StatusOr<CostTable> table = CostTable::Build(s.world, s.trace);
    ASSERT_TRUE(table.ok()) << table.status();
    absl::StatusOr<OracleSchedule> oracle = Oracle(*table, 0, {2});  // dwell 2 as the policies
    ASSERT_TRUE(oracle.ok()) << oracle.status();
    std::vector<std::unique_ptr<Policy>> policies;
    policies.push_back(StaticPolicy());
    policies.push_back(ReactivePolicy({}));
    policies.push_back(PredictivePolicy(&s.world, FastPredictive()));
    for (auto& p : policies) {
      absl::StatusOr<PolicyRun> run = Simulate(*p, *table, s.world, s.trace, 0);
      ASSERT_TRUE(run.ok()) << p->name() << ": " << run.status();
      EXPECT_GE(run->report.cost.total(), oracle->total_cost - 1e-9)
          << p->name() << ", seed " << seed;
      moved += run->report.migrations;
    }
  }
  EXPECT_GT(moved, 0) << "the traces make someone move: the comparison is not between statics";
}

}  // namespace
}  // namespace shadowplane::evaluation
