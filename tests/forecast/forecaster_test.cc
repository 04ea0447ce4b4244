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

}  // namespace
}  // namespace shadowplane::forecast
