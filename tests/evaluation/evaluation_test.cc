// The whole evaluation of one trace: the same configuration and trace give the same table, byte
// for byte, and no policy beats the oracle on the scored half.
#include "evaluation/evaluation.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "evaluation/test_location.h"

namespace shadowplane::evaluation {
namespace {

// Four weeks of a two-continent trace, two locations with spot markets, small tuning grids.
struct Inputs {
  EvaluationConfig config;
  DemandTrace trace;
  std::vector<forecast::DemandEvent> announced;
};

Inputs FourWeeks() {
  forecast::TraceProfile profile;
  profile.seed = 99;
  profile.start = absl::FromUnixSeconds(1736121600);  // Monday 2025-01-06 00:00 UTC
  profile.hours = 4 * 168;
  profile.regions = {{"us-east", 39.0, -77.5, -5, 2000}, {"eu-central", 50.1, 8.7, 1, 2000}};
  absl::StatusOr<forecast::Trace> trace = forecast::GenerateTrace(profile);
  EXPECT_TRUE(trace.ok()) << trace.status();
  Inputs s;
  s.trace = DemandTraceOf(*trace, 20000);
  for (const forecast::TraceCampaign& c : trace->campaigns) {
    if (c.announced) {
      s.announced.push_back({c.start, c.start + absl::Hours(c.hours), {c.region}, c.uplift});
    }
  }
  World& w = s.config.world;
  w.locations["iad"] = TestLocation("iad", {38.9, -77.0}, 0.040, 0.02, 0.12);
  w.locations["fra"] = TestLocation("fra", {50.1, 8.7}, 0.046, 0.02, 0.12);
  for (const forecast::TraceRegion& r : trace->regions) {
    w.regions[r.name] = {r.name, {r.latitude, r.longitude}};
  }
  w.prices.latency_price_per_request_ms = 2e-6;
  w.move.data_bytes = 2'000'000'000;
  w.move.expected_freeze_seconds = TimesOf(w.migration, w.move.data_bytes).freeze_seconds;
  SpotMarketOptions market;
  market.spikes_per_week = 2;
  s.config.spot_markets["iad"] = market;
  s.config.spot_markets["fra"] = market;
  EXPECT_TRUE(AddSpotMarkets(s.config, s.trace.hours()).ok());
  s.config.reactive_windows = {6, 24};
  s.config.reactive_margins = {0.0};
  s.config.predictive_horizons = {6};
  s.config.predictive_thresholds = {0.8};
  return s;
}

TEST(EvaluationTest, TheSameConfigurationGivesTheSameTableByteForByte) {
  const Inputs s = FourWeeks();
  absl::StatusOr<EvaluationResult> first = Evaluate(s.config, s.trace, s.announced);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<EvaluationResult> second = Evaluate(s.config, s.trace, s.announced);
  ASSERT_TRUE(second.ok()) << second.status();
  const std::string table = FormatTable(*first);
  EXPECT_EQ(table, FormatTable(*second));
  // A table of runs that did something: every policy and the oracle, predictive's forecasts
  // scored, and someone moved.
  for (const std::string name : {"| static |", "| reactive |", "| predictive |", "| oracle |"}) {
    EXPECT_TRUE(absl::StrContains(table, name)) << table;
  }
  ASSERT_EQ(first->runs.size(), 4u);
  ASSERT_TRUE(first->runs[2].accuracy.has_value());
  EXPECT_GT(first->runs[2].accuracy->points, 0);
  EXPECT_GT(first->runs[1].report.migrations + first->runs[2].report.migrations, 0) << table;
  // The oracle is an upper bound on the scored half.
  for (const PolicyRun& run : first->runs) {
    EXPECT_GE(run.report.cost.total(), first->oracle.report.cost.total() - 1e-9) << run.policy;
  }
}

TEST(EvaluationTest, ShortTracesAndUncoveredMarketsAreRefused) {
  Inputs s = FourWeeks();
  EXPECT_EQ(Evaluate(s.config, Head(s.trace, 3 * 168), s.announced).status().code(),
            absl::StatusCode::kFailedPrecondition);
  s.config.world.spot["iad"].price_share.resize(100);
  EXPECT_EQ(Evaluate(s.config, s.trace, s.announced).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shadowplane::evaluation
