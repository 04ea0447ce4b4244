// The evaluation's committed configuration: what it reads, and bad input named by key.
#include "evaluation/evaluation_config.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace shadowplane::evaluation {
namespace {

constexpr char kGood[] = R"(
trace: synthetic
bytes_per_request: 20000
latency_price_per_request_ms: 5.0e-7
delayed_request_price: 0.001
min_dwell_hours: 3
seed: 7
resource: {millicores: 1000, memory_mib: 1024, data_bytes: 2000000000, bandwidth_mib_s: 50,
           dirty_bytes_per_second: 100000, dirty_files: 4}
locations:
  - {name: iad, latitude: 38.9, longitude: -77.0, vcpu_hour: 0.048, gib_hour: 0.006,
     electricity_kwh: 0.12, watts_per_vcpu: 10, bandwidth_gb: 0.09,
     spot: {mean_share: 0.35, volatility: 0.02, spikes_per_week: 1, spike_min_hours: 2,
            spike_max_hours: 4}}
tuning:
  reactive: {window_hours: [3, 6], hysteresis_relative: [0.0, 0.1]}
  predictive: {horizon_hours: [6], migration_threshold: [0.8, 0.9]}
)";

TEST(EvaluationConfigTest, ReadsWhatItSays) {
  absl::StatusOr<EvaluationConfig> c = ParseEvaluationConfig(kGood, "good.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->trace, "synthetic");
  EXPECT_EQ(c->min_dwell_hours, 3);
  EXPECT_DOUBLE_EQ(c->world.prices.latency_price_per_request_ms, 5e-7);
  EXPECT_EQ(c->world.capacity.millicores, 1000);
  EXPECT_EQ(c->world.move.data_bytes, 2000000000);
  ASSERT_EQ(c->world.locations.count("iad"), 1u);
  EXPECT_DOUBLE_EQ(c->world.locations.at("iad").bandwidth_price_per_gb, 0.09);
  EXPECT_EQ(c->reactive_windows, (std::vector<int>{3, 6}));
  EXPECT_EQ(c->predictive_thresholds, (std::vector<double>{0.8, 0.9}));
  EXPECT_EQ(c->seed, 7u);
  EXPECT_DOUBLE_EQ(c->world.migration.bandwidth_bytes_per_second, 50.0 * (1 << 20));
  EXPECT_EQ(c->world.migration.dirty_files, 4);
  // The planner prices the freeze the simulator charges: the default freeze model's, for what
  // the final round carries.
  const MoveTimes times = TimesOf(c->world.migration, c->world.move.data_bytes);
  EXPECT_GT(times.freeze_seconds, 0.5);
  EXPECT_DOUBLE_EQ(c->world.move.expected_freeze_seconds, times.freeze_seconds);
  ASSERT_EQ(c->spot_markets.count("iad"), 1u);
  EXPECT_EQ(c->spot_markets.at("iad").spike_max_hours, 4);
  // Markets are generated over the trace's hours, the same for the same seed.
  EvaluationConfig again = *c;
  ASSERT_TRUE(AddSpotMarkets(*c, 24 * 70).ok());
  ASSERT_TRUE(AddSpotMarkets(again, 24 * 70).ok());
  const SpotSeries& m = c->world.spot.at("iad");
  EXPECT_EQ(m.price_share.size(), 24u * 70);
  EXPECT_EQ(m.price_share, again.world.spot.at("iad").price_share);
  EXPECT_GT(m.Interruptions(), 0);
}

TEST(EvaluationConfigTest, BadInputIsNamedByKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[", "not YAML"},
      {"- a", "not a mapping"},
  };
  for (const auto& [yaml, expect] : cases) {
    absl::StatusOr<EvaluationConfig> c = ParseEvaluationConfig(yaml, "bad.yaml");
    EXPECT_FALSE(c.ok()) << yaml;
  }
  auto with = [](const std::string& from, const std::string& to) {
    std::string s = kGood;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
    return s;
  };
  const std::vector<std::pair<std::string, std::string>> replaced = {
      {with("vcpu_hour: 0.048", "vcpu_hour: -1"), "vcpu_hour"},
      {with("latitude: 38.9", "latitude: 95"), "latitude"},
      {with("bytes_per_request: 20000", "bytes_per_request: .nan"), "bytes_per_request"},
      {with("millicores: 1000", "millicores: lots"), "millicores"},
      {with("window_hours: [3, 6]", "window_hours: []"), "window_hours"},
      {with("migration_threshold: [0.8, 0.9]", "migration_threshold: [0.8, 2]"),
       "migration_threshold"},
      {with("trace: synthetic", "trace: eia"), "eia_regions"},
      {with("trace: synthetic", "trace: sometimes"), "trace"},
      {with("bandwidth_mib_s: 50", "bandwidth_mib_s: 0"), "bandwidth_mib_s"},
      {with("mean_share: 0.35", "mean_share: 1.5"), "mean_share"},
      {with("spike_min_hours: 2", "spike_min_hours: 9"), "spike_min_hours"},
      // Found by bench/fuzz's config_yaml: a scalar where a mapping goes threw out of the
      // parser (yaml-cpp's BadSubscript) and ended the process.
      {with("tuning:\n  reactive:", "tuning: 3\nx:\n  reactive:"), "reactive"},
  };
  for (const auto& [yaml, key] : replaced) {
    absl::StatusOr<EvaluationConfig> c = ParseEvaluationConfig(yaml, "bad.yaml");
    ASSERT_FALSE(c.ok()) << key;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
    EXPECT_TRUE(absl::StrContains(c.status().message(), key)) << c.status();
    EXPECT_TRUE(absl::StrContains(c.status().message(), "bad.yaml")) << c.status();
  }
  EXPECT_EQ(LoadEvaluationConfig("/nonexistent/evaluation.yaml").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace shadowplane::evaluation
