// The evaluation's cost accounting and its offline optimum: a three-hour trace charged by hand,
// and the oracle against every schedule of small generated traces.
#include "evaluation/cost_table.h"

#include <gtest/gtest.h>

#include <random>

#include "evaluation/oracle.h"
#include "evaluation/test_location.h"

namespace shadowplane::evaluation {
namespace {

// Two origins (ny, ca) and two locations (east, west) 10 ms from their own coast and 70 ms from
// the other; west is cheaper to run ($0.03 against $0.04 a vCPU-hour) and dearer to send from
// ($0.02 against $0.01 a GB).
World TwoCoasts() {
  World w;
  w.locations["east"] = TestLocation("east", {}, 0.04, 0.01, 0.1);
  w.locations["west"] = TestLocation("west", {}, 0.03, 0.02, 0.1);
  w.regions["ny"] = {"ny", {40.7, -74.0}};
  w.regions["ca"] = {"ca", {37.0, -120.0}};
  w.rtt.SetMeasured("ny", "east", 10);
  w.rtt.SetMeasured("ny", "west", 70);
  w.rtt.SetMeasured("ca", "east", 70);
  w.rtt.SetMeasured("ca", "west", 10);
  w.prices.latency_price_per_request_ms = 1e-4;
  w.prices.delayed_request_price = 0.001;
  w.prices.disrupted_session_price = 0;
  w.capacity = {1000, 1024, CapacityType::kOnDemand};
  w.move.data_bytes = 2'000'000'000;
  w.move.expected_freeze_seconds = 36;  // a hundredth of an hour
  // Pre-copy takes 36 s too: 2 GB at 2e9/36 bytes a second, nothing written meanwhile.
  w.migration.bandwidth_bytes_per_second = 2e9 / 36;
  return w;
}

TEST(CostTableTest, AThreeHourTraceChargedByHand) {
  const World world = TwoCoasts();
  DemandTrace trace;
  trace.start = absl::FromUnixSeconds(1798761600);
  trace.regions = {"ny", "ca"};
  trace.requests = {{1000, 0}, {600, 400}, {0, 1000}};
  trace.bytes_per_request = {1e6, 1e6};  // 1 MB each
  absl::StatusOr<CostTable> table = CostTable::Build(world, trace);
  ASSERT_TRUE(table.ok()) << table.status();
  const int east = table->IndexOf("east");
  const int west = table->IndexOf("west");
  ASSERT_GE(east, 0);
  ASSERT_GE(west, 0);
  // Hour 0 from east: compute 1 vCPU × $0.04 + 1 GiB × $0.005 = $0.045; power 1 × 10 W × $0.1/kWh
  // = $0.001; latency 1,000 × 10 ms × 1e-4 = $1; egress 1,000 × 1 MB = 1 GB × $0.01.
  EXPECT_NEAR(table->Serve(0, east).compute, 0.045, 1e-12);
  EXPECT_NEAR(table->Serve(0, east).electricity, 0.001, 1e-12);
  EXPECT_NEAR(table->Serve(0, east).latency, 1.0, 1e-12);
  EXPECT_NEAR(table->Serve(0, east).egress, 0.01, 1e-12);
  EXPECT_NEAR(table->Serve(0, west).total(), 0.035 + 0.001 + 7.0 + 0.02, 1e-12);
  // Hour 1: east (600 × 10 + 400 × 70) × 1e-4 = $3.40, west (600 × 70 + 400 × 10) × 1e-4 = $4.60.
  EXPECT_NEAR(table->Serve(1, east).total(), 0.046 + 3.4 + 0.01, 1e-12);
  EXPECT_NEAR(table->Serve(1, west).total(), 0.036 + 4.6 + 0.02, 1e-12);
  EXPECT_NEAR(table->Serve(2, west).total(), 0.036 + 1.0 + 0.02, 1e-12);
  // Moving out of east: 2 GB × $0.01 + 36 s of 1,000 requests an hour held × $0.001 = $0.03.
  EXPECT_NEAR(table->Move(2, east), 0.02 + 0.01, 1e-12);
  EXPECT_NEAR(table->Move(2, west), 0.04 + 0.01, 1e-12);

  // Staying at east: $1.056 + $3.456 + $7.056.
  absl::StatusOr<ScheduleReport> stay = Charge(*table, world, {east, east, east}, east);
  ASSERT_TRUE(stay.ok()) << stay.status();
  EXPECT_NEAR(stay->cost.total(), 11.568, 1e-9);
  EXPECT_EQ(stay->migrations, 0);
  // Moving west at hour 2: east serves the first hundredth of the hour (pre-copy) while west
  // already runs; then west. Hour 2: compute 0.01 × $0.045 + $0.035, power 0.01 × $0.001 +
  // $0.001, latency 0.01 × $7 + 0.99 × $1, egress 0.01 × $0.01 + 0.99 × $0.02, the move $0.03.
  ASSERT_DOUBLE_EQ(table->PrecopyShare(), 0.01);
  absl::StatusOr<ScheduleReport> moved = Charge(*table, world, {east, east, west}, east);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_NEAR(moved->cost.compute, 0.045 + 0.045 + 0.00045 + 0.035, 1e-12);
  EXPECT_NEAR(moved->cost.electricity, 0.002 + 0.00001 + 0.001, 1e-12);
  EXPECT_NEAR(moved->cost.latency, 1.0 + 3.4 + 0.07 + 0.99, 1e-12);
  EXPECT_NEAR(moved->cost.egress, 0.01 + 0.01 + 0.0001 + 0.0198, 1e-12);
  EXPECT_NEAR(moved->cost.moves, 0.03, 1e-12);
  EXPECT_NEAR(moved->cost.total(), 5.65836, 1e-9);
  EXPECT_EQ(moved->migrations, 1);
  EXPECT_DOUBLE_EQ(moved->freeze_seconds, 36);
  EXPECT_NEAR(moved->mean_rtt_ms, (10.0 * 1000 + 34.0 * 1000 + 10.0 * 1000) / 3000, 1e-9);
  EXPECT_DOUBLE_EQ(moved->best_location_share, 1.0);

  // The oracle finds that move.
  absl::StatusOr<OracleSchedule> best = Oracle(*table, east);
  ASSERT_TRUE(best.ok()) << best.status();
  EXPECT_EQ(best->schedule, (std::vector<int>{east, east, west}));
  EXPECT_NEAR(best->total_cost, 5.65836, 1e-9);
}

// Spot at west: half the on-demand price in hour 0, reclaimed in hour 1, 0.4 of it in hour 2.
TEST(CostTableTest, SpotHoursAreChargedAtTheirPriceAndReclaimedOnesServeNothing) {
  World world = TwoCoasts();
  world.spot["west"] = SpotSeries{{0.5, 1.2, 0.4}, {false, true, false}, 0.9};
  DemandTrace trace;
  trace.regions = {"ny", "ca"};
  trace.requests = {{0, 1000}, {0, 1000}, {0, 1000}};
  trace.bytes_per_request = {1e6, 1e6};
  absl::StatusOr<CostTable> table = CostTable::Build(world, trace);
  ASSERT_TRUE(table.ok()) << table.status();
  const int west = table->IndexOf("west");
  const int spot = table->IndexOf("west", CapacityType::kSpot);
  ASSERT_GE(spot, 0);
  EXPECT_EQ(table->placements()[static_cast<size_t>(spot)].name, "west:spot");
  // Compute at the hour's spot price: 0.5 × ($0.03 + $0.005); power as on-demand.
  EXPECT_NEAR(table->Serve(0, spot).compute, 0.0175, 1e-12);
  EXPECT_NEAR(table->Serve(2, spot).compute, 0.014, 1e-12);
  EXPECT_NEAR(table->Serve(0, spot).electricity, 0.001, 1e-12);
  EXPECT_TRUE(table->Interrupted(1, spot));
  EXPECT_FALSE(table->Interrupted(1, west));
  // Serving the reclaimed hour is refused; leaving it is an urgent move.
  EXPECT_EQ(Charge(*table, world, {spot, spot, spot}, spot).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<ScheduleReport> fell = Charge(*table, world, {spot, west, west}, spot);
  ASSERT_TRUE(fell.ok()) << fell.status();
  EXPECT_EQ(fell->migrations, 1);
  EXPECT_EQ(fell->urgent_moves, 1);
  EXPECT_NEAR(fell->spot_share, 1.0 / 3, 1e-12);
  // The oracle leaves spot when reclaimed even inside the dwell, and comes back when it pays.
  absl::StatusOr<OracleSchedule> best = Oracle(*table, spot, {24});
  ASSERT_TRUE(best.ok()) << best.status();
  EXPECT_EQ(best->schedule[1], west);
  // A market shorter than the trace, or for an unknown location, is refused.
  World short_market = world;
  short_market.spot["west"].price_share.pop_back();
  EXPECT_EQ(CostTable::Build(short_market, trace).status().code(),
            absl::StatusCode::kInvalidArgument);
  World unknown = world;
  unknown.spot["mars"] = world.spot["west"];
  EXPECT_EQ(CostTable::Build(unknown, trace).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CostTableTest, BadTracesAndSchedulesAreRefused) {
  const World world = TwoCoasts();
  DemandTrace trace;
  trace.regions = {"ny", "ca"};
  EXPECT_EQ(CostTable::Build(world, trace).status().code(), absl::StatusCode::kInvalidArgument);
  trace.requests = {{1, 2, 3}};
  EXPECT_EQ(CostTable::Build(world, trace).status().code(), absl::StatusCode::kInvalidArgument);
  trace.requests = {{1, -2}};
  EXPECT_EQ(CostTable::Build(world, trace).status().code(), absl::StatusCode::kInvalidArgument);
  trace.requests = {{1, std::nan("")}};
  EXPECT_EQ(CostTable::Build(world, trace).status().code(), absl::StatusCode::kInvalidArgument);
  trace.requests = {{1, 2}};
  trace.regions = {"ny", "mars"};
  EXPECT_EQ(CostTable::Build(world, trace).status().code(), absl::StatusCode::kNotFound);
  trace.regions = {"ny", "ca"};
  World unpriced = world;
  unpriced.locations["east"].on_demand_price_per_vcpu_hour = 0;
  EXPECT_EQ(CostTable::Build(unpriced, trace).status().code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<CostTable> table = CostTable::Build(world, trace);
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(Charge(*table, world, {0, 0}, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Charge(*table, world, {5}, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Charge(*table, world, {0}, 7).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Oracle(*table, 9).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Oracle(*table, 0, {-1}).status().code(), absl::StatusCode::kInvalidArgument);
}

// Whether every move of `schedule` (from `start`) comes at least `dwell` hours after the last,
// urgent moves out of reclaimed spot aside.
bool KeepsDwell(const CostTable& table, const std::vector<int>& schedule, int start, int dwell) {
  int at = start;
  int last_move = -1000000;
  for (int h = 0; h < static_cast<int>(schedule.size()); ++h) {
    if (schedule[static_cast<size_t>(h)] == at) continue;
    if (h - last_move < dwell && !table.Interrupted(h, at)) return false;
    last_move = h;
    at = schedule[static_cast<size_t>(h)];
  }
  return true;
}

// Small random worlds, with a spot market reclaimed at random at one location: the oracle's total
// is the least of every schedule that keeps the dwell, found by trying them all, and no schedule
// (static among them) costs less.
TEST(OracleTest, NoScheduleThatKeepsTheDwellCostsLessThanTheOracle) {
  std::mt19937 rng(20261207);
  std::uniform_real_distribution<double> demand(0, 2000);
  std::uniform_real_distribution<double> price(0.01, 0.08);
  World world;
  world.regions["a"] = {"a", {50, 8}};
  world.regions["b"] = {"b", {39, -77}};
  world.regions["c"] = {"c", {1.3, 103.8}};
  world.prices.latency_price_per_request_ms = 2e-5;
  world.move.data_bytes = 5'000'000'000;
  world.move.expected_freeze_seconds = 2;
  std::uniform_real_distribution<double> share(0.2, 0.9);
  std::bernoulli_distribution reclaimed(0.25);
  constexpr int kHours = 6;
  constexpr int kPlacements = 4;                           // three on-demand, one spot
  world.migration.bandwidth_bytes_per_second = 5e9 / 360;  // a tenth of an hour
  for (int round = 0; round < 20; ++round) {
    world.locations.clear();
    world.locations["fra"] = TestLocation("fra", {50.1, 8.7}, price(rng), price(rng), 0.1);
    world.locations["iad"] = TestLocation("iad", {38.9, -77.0}, price(rng), price(rng), 0.1);
    world.locations["sin"] = TestLocation("sin", {1.35, 103.8}, price(rng), price(rng), 0.1);
    SpotSeries& market = world.spot["iad"];
    market.price_share.clear();
    market.interrupted.clear();
    for (int h = 0; h < kHours; ++h) {
      market.interrupted.push_back(reclaimed(rng));
      market.price_share.push_back(market.interrupted.back() ? 1.2 : share(rng));
    }
    DemandTrace trace;
    trace.regions = {"a", "b", "c"};
    for (int h = 0; h < kHours; ++h)
      trace.requests.push_back({demand(rng), demand(rng), demand(rng)});
    trace.bytes_per_request = {1e4, 2e4, 3e4};
    absl::StatusOr<CostTable> table = CostTable::Build(world, trace);
    ASSERT_TRUE(table.ok()) << table.status();
    for (int dwell : {0, 2, 3}) {
      const int start = round % kPlacements;
      absl::StatusOr<OracleSchedule> oracle = Oracle(*table, start, {dwell});
      ASSERT_TRUE(oracle.ok()) << oracle.status();
      ASSERT_TRUE(KeepsDwell(*table, oracle->schedule, start, dwell));
      absl::StatusOr<ScheduleReport> charged = Charge(*table, world, oracle->schedule, start);
      ASSERT_TRUE(charged.ok());
      EXPECT_NEAR(charged->cost.total(), oracle->total_cost, 1e-9);
      double least = std::numeric_limits<double>::infinity();
      std::vector<int> schedule(kHours, 0);
      int tried = 0;
      for (int code = 0; code < 4096; ++code) {  // 4^6 schedules
        for (int h = 0, c = code; h < kHours; ++h, c /= kPlacements) schedule[h] = c % kPlacements;
        if (!KeepsDwell(*table, schedule, start, dwell)) continue;
        absl::StatusOr<ScheduleReport> s = Charge(*table, world, schedule, start);
        if (!s.ok()) continue;  // serves a reclaimed hour
        ++tried;
        EXPECT_GE(s->cost.total(), oracle->total_cost - 1e-9) << "round " << round;
        least = std::min(least, s->cost.total());
      }
      EXPECT_GT(tried, 0);
      EXPECT_NEAR(least, oracle->total_cost, 1e-9) << "round " << round << ", dwell " << dwell;
    }
  }
}

}  // namespace
}  // namespace shadowplane::evaluation
