// One series' forecast as the service makes it: the default model, and seasonal naive when a fit
// fails or gives numbers that are not finite (counted, never served as NaN).
#include "forecast/forecaster.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cmath>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace shadowplane::forecast {
namespace {

// A model that fails to fit, or fits and forecasts NaN.
class BrokenModel final : public ForecastModel {
 public:
  explicit BrokenModel(bool fit_fails) : fit_fails_(fit_fails) {}
  std::string name() const override { return "broken"; }
  int min_history() const override { return 1; }
  absl::Status Fit(absl::Span<const double>) override {
    return fit_fails_ ? absl::InternalError("broken: the fit diverged") : absl::OkStatus();
  }
  absl::Status Update(absl::Span<const double> y) override { return Fit(y); }
  std::vector<double> Forecast(int horizon) const override {
    return std::vector<double>(horizon, NAN);
  }
  void Observe(double) override {}
  std::vector<double> parameters() const override { return {}; }
  void WarmStart(const std::string&, const std::vector<double>&) override {}

 private:
  const bool fit_fails_;
};

std::vector<double> Daily(int hours) {
  std::vector<double> y(hours);
  for (int t = 0; t < hours; ++t) y[t] = 50 + 30 * std::sin(2 * M_PI * t / 24.0);
  return y;
}

std::string Scrape(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

const absl::Time kHour = absl::FromUnixSeconds(1796558400);

TEST(ForecasterTest, ForecastsASeriesWithTheDefaultModel) {
  prometheus::Registry registry;
  FakeClock clock(kHour);
  ForecasterOptions options;
  options.stored_horizon_hours = 30;
  Forecaster forecaster(nullptr, &clock, options, &registry);
  const std::vector<double> y = Daily(3 * 168);
  const store::ForecastRecord r = forecaster.ForecastSeries("eu", y, kHour, nullptr);
  EXPECT_EQ(r.origin_region, "eu");
  EXPECT_EQ(r.first_hour, kHour);
  EXPECT_EQ(r.history_hours, 3 * 168);
  ASSERT_EQ(r.values.size(), 30u);
  for (int h = 0; h < 30; ++h) EXPECT_NEAR(r.values[h], 50 + 30 * std::sin(2 * M_PI * h / 24.0), 1);
  EXPECT_TRUE(r.fallback_reason.empty());
  EXPECT_FALSE(r.model.empty());
  EXPECT_TRUE(absl::StrContains(Scrape(registry), "shadowplane_forecast_fit_seconds_count 1"));
}

TEST(ForecasterTest, AFailedOrNonFiniteFitFallsBackToSeasonalNaiveAndIsCounted) {
  // 100 hours: enough to backtest the (broken) candidate over 12 origins of 48 hours.
  prometheus::Registry registry;
  FakeClock clock(kHour);
  ForecasterOptions options;
  options.stored_horizon_hours = 48;
  const std::vector<double> y = Daily(100);
  for (const bool fit_fails : {true, false}) {
    Forecaster forecaster(nullptr, &clock, options, &registry, [fit_fails](int) {
      std::vector<std::unique_ptr<ForecastModel>> c;
      c.push_back(std::make_unique<BrokenModel>(fit_fails));
      return c;
    });
    const store::ForecastRecord r = forecaster.ForecastSeries("eu", y, kHour, nullptr);
    EXPECT_EQ(r.model, "seasonal_naive_24");
    EXPECT_EQ(r.method, "fallback");
    EXPECT_TRUE(absl::StrContains(r.fallback_reason, "failed")) << r.fallback_reason;
    EXPECT_TRUE(r.lead_scale.empty()) << "no backtest, no intervals";
    ASSERT_EQ(r.values.size(), 48u);
    for (int h = 0; h < 48; ++h) EXPECT_DOUBLE_EQ(r.values[h], y[y.size() - 24 + h % 24]);
  }
  const std::string metrics = Scrape(registry);
  // A fit that fails and a forecast that is not finite both fail their backtest.
  EXPECT_TRUE(
      absl::StrContains(metrics, "shadowplane_forecast_fallbacks_total{reason=\"fit_failed\"} 2"))
      << metrics;
  EXPECT_TRUE(
      absl::StrContains(metrics, "shadowplane_forecast_fits_total{model=\"seasonal_naive_24\"} 2"));
}

TEST(ForecasterTest, NonFiniteHistoryNeverReachesAModelOrTheForecast) {
  FakeClock clock(kHour);
  Forecaster forecaster(nullptr, &clock, ForecasterOptions{}, nullptr);
  std::vector<double> y = Daily(3 * 168);
  y[100] = NAN;
  y.back() = INFINITY;
  const store::ForecastRecord r = forecaster.ForecastSeries("eu", y, kHour, nullptr);
  EXPECT_TRUE(absl::StrContains(r.fallback_reason, "not a finite number")) << r.fallback_reason;
  EXPECT_EQ(r.model, "seasonal_naive_24");
  for (double v : r.values) EXPECT_TRUE(std::isfinite(v));
  EXPECT_EQ(r.values[23], 0) << "the infinite hour counts as none";
}

TEST(ForecasterTest, ForecastsAreNeverNegativeAndTinyHistoriesStillGetOne) {
  FakeClock clock(kHour);
  ForecasterOptions options;
  options.stored_horizon_hours = 24;
  Forecaster forecaster(nullptr, &clock, options, nullptr);
  // A steep fall: a trend model would go below zero.
  std::vector<double> falling(72);
  for (int t = 0; t < 72; ++t) falling[t] = std::max(0.0, 500 - 10.0 * t);
  for (double v : forecaster.ForecastSeries("eu", falling, kHour, nullptr).values) {
    EXPECT_GE(v, 0);
  }
  const store::ForecastRecord one = forecaster.ForecastSeries("eu", {7}, kHour, nullptr);
  EXPECT_EQ(one.model, "last_value");
  EXPECT_EQ(one.values, std::vector<double>(24, 7.0));
  const store::ForecastRecord two = forecaster.ForecastSeries("eu", {4, 6}, kHour, nullptr);
  EXPECT_EQ(two.model, "level_only");
  EXPECT_EQ(two.values.size(), 24u);
}

// FNV-1a, as published: the seed is the same in every process and on every machine.
TEST(ForecasterTest, ThePathSeedIsTheSameEverywhere) {
  // No id and time zero: FNV-1a 64 of eight zero bytes.
  EXPECT_EQ(SamplePathSeed("", absl::UnixEpoch()), 0xa8c7f832281a39c5ull);
  EXPECT_NE(SamplePathSeed("r1", kHour), SamplePathSeed("r2", kHour));
  EXPECT_NE(SamplePathSeed("r1", kHour), SamplePathSeed("r1", kHour + absl::Hours(1)));
  EXPECT_EQ(SamplePathSeed("r1", kHour), SamplePathSeed("r1", kHour));
}

// A resource's computation from a history given in memory (the trace-driven evaluation's path):
// a record per region and the total, joint paths and their window sums, the same for the same
// input, and the deadline honoured.
TEST(ForecasterTest, ComputesFromAHistoryInMemory) {
  FakeClock clock(kHour);
  ForecasterOptions options;
  options.stored_horizon_hours = 48;
  options.sample_paths = 20;
  options.path_sums.window_hours = 24;
  options.path_sums.starts = 2;
  Forecaster forecaster(nullptr, &clock, options, nullptr);
  ComputationInput in;
  in.resource_id = "r1";
  in.now = kHour + absl::Minutes(20);
  in.history.first_hour = kHour - absl::Hours(3 * 168);
  in.history.regions["eu"] = Daily(3 * 168);
  std::vector<double> us = Daily(3 * 168);
  for (double& v : us) v = 100 - v;
  in.history.regions["us"] = us;
  for (int t = 0; t < 3 * 168; ++t) in.history.total.push_back(in.history.regions["eu"][t] + us[t]);
  in.bytes_per_request = {{"eu", 1000}, {"us", 2000}};
  absl::StatusOr<Computation> c = forecaster.ComputeFrom(in, {}, absl::InfiniteFuture());
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->records.size(), 3u);
  EXPECT_EQ(c->records[0].origin_region, "eu");
  EXPECT_EQ(c->records[1].origin_region, "us");
  EXPECT_EQ(c->records[2].origin_region, "total");
  for (const store::ForecastRecord& r : c->records) {
    EXPECT_EQ(r.resource_id, "r1");
    EXPECT_EQ(r.first_hour, kHour);
    EXPECT_EQ(r.computed_at, in.now);
    ASSERT_EQ(r.values.size(), 48u);
  }
  EXPECT_NEAR(c->records[0].values[6], 50 + 30 * std::sin(2 * M_PI * 6 / 24.0), 3);
  ASSERT_TRUE(c->paths.has_value());
  EXPECT_EQ(c->paths->paths, 20);
  ASSERT_EQ(c->path_sums.size(), 2u);
  EXPECT_EQ(c->path_sums[0].start_hour, kHour);
  EXPECT_EQ(c->path_sums[0].window_hours, 24);
  ASSERT_EQ(c->path_sums[0].bytes_per_request.size(), 2u);
  EXPECT_DOUBLE_EQ(c->path_sums[0].bytes_per_request[1], 2000);

  // The same input, the same computation (the paths' seed is the resource and the time).
  absl::StatusOr<Computation> again = forecaster.ComputeFrom(in, {}, absl::InfiniteFuture());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->records[2].values, c->records[2].values);
  EXPECT_EQ(again->paths->values, c->paths->values);
  EXPECT_EQ(again->path_sums[1].sums, c->path_sums[1].sums);

  EXPECT_EQ(forecaster.ComputeFrom(in, {}, absl::InfinitePast()).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  std::atomic<bool> cancelled{true};
  EXPECT_EQ(forecaster.ComputeFrom(in, {}, absl::InfiniteFuture(), &cancelled).status().code(),
            absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace shadowplane::forecast
