// Forecasting models on synthetic series with known answers.
#include "forecast/holt_winters.h"

#include <cmath>
#include <random>

#include "forecast/double_seasonal.h"
#include "forecast/level_only.h"
#include "forecast/nelder_mead.h"
#include "forecast/seasonal_naive.h"
#include "gtest/gtest.h"

namespace shadowplane::forecast {
namespace {

// A daily shape around `level`: low at night, high in the afternoon.
double Daily(int hour, double level) {
  return level * (1.0 + 0.5 * std::sin(2 * M_PI * (hour % 24 - 8) / 24.0));
}

std::vector<double> Series(int hours, double level, double noise = 0, int seed = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, noise);
  std::vector<double> y(hours);
  for (int t = 0; t < hours; ++t) y[t] = Daily(t, level) + (noise > 0 ? n(rng) : 0);
  return y;
}

TEST(NelderMeadTest, FindsTheMinimumAndStaysInTheBox) {
  Eigen::VectorXd lower(2), upper(2), start(2);
  lower << -2, -2;
  upper << 2, 2;
  start << -1, 1.5;
  auto rosenbrock = [](const Eigen::VectorXd& x) {
    return 100 * std::pow(x[1] - x[0] * x[0], 2) + std::pow(1 - x[0], 2);
  };
  NelderMeadOptions options;
  options.max_evaluations = 2000;
  const NelderMeadResult r = MinimizeInBox(rosenbrock, start, lower, upper, options);
  EXPECT_NEAR(r.x[0], 1, 1e-2);
  EXPECT_NEAR(r.x[1], 1, 2e-2);
  // A minimum outside the box is found on its edge.
  upper << 0.5, 2;
  const NelderMeadResult edge = MinimizeInBox(rosenbrock, start, lower, upper, options);
  EXPECT_LE(edge.x[0], 0.5);
  EXPECT_NEAR(edge.x[0], 0.5, 1e-2);
}

TEST(SeasonalNaiveTest, RepeatsTheLastSeason) {
  SeasonalNaive naive(24);
  const std::vector<double> y = Series(72, 100);
  ASSERT_TRUE(naive.Fit(y).ok());
  const std::vector<double> f = naive.Forecast(48);
  for (int h = 0; h < 48; ++h) EXPECT_DOUBLE_EQ(f[h], Daily(72 + h, 100)) << h;
  EXPECT_EQ(naive.name(), "seasonal_naive_24");
  EXPECT_EQ(naive.Fit(std::vector<double>(23, 1.0)).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(HoltWintersTest, APureSeasonalSeriesIsForecastAlmostExactly) {
  for (Seasonality seasonality : {Seasonality::kAdditive, Seasonality::kMultiplicative}) {
    HoltWintersOptions options;
    options.seasonality = seasonality;
    HoltWinters model(options);
    ASSERT_TRUE(model.Fit(Series(24 * 14, 100)).ok()) << model.name();
    const std::vector<double> f = model.Forecast(48);
    for (int h = 0; h < 48; ++h) {
      EXPECT_NEAR(f[h], Daily(24 * 14 + h, 100), 1.0) << model.name() << " hour " << h;
    }
  }
}

TEST(HoltWintersTest, ALevelShiftIsTracked) {
  // Additive seasonality keeps its amplitude across the shift; multiplicative scales with it.
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0, 2);
  for (Seasonality seasonality : {Seasonality::kAdditive, Seasonality::kMultiplicative}) {
    auto truth = [&](int t) {
      const double level = t < 24 * 10 ? 100 : 150;
      return seasonality == Seasonality::kAdditive
                 ? level + 30 * std::sin(2 * M_PI * (t % 24 - 8) / 24.0)
                 : Daily(t, level);
    };
    std::vector<double> y;
    for (int t = 0; t < 24 * 13; ++t) y.push_back(truth(t) + noise(rng));
    HoltWintersOptions options;
    options.seasonality = seasonality;
    HoltWinters model(options);
    ASSERT_TRUE(model.Fit(y).ok());
    const std::vector<double> f = model.Forecast(48);
    double mean = 0;
    for (int h = 0; h < 24; ++h) mean += f[h] / 24;
    EXPECT_NEAR(mean, 150, 150 * 0.05) << model.name() << ": the new level, not the old";
    for (double v : f) EXPECT_TRUE(std::isfinite(v));
    // The trend stays bounded: 48 hours out the forecast has not run away.
    EXPECT_LT(std::abs(f[47] - truth(y.size() + 47)), 150 * 0.15) << model.name();
    const std::vector<double> p = model.parameters();
    ASSERT_EQ(p.size(), 4u);
    EXPECT_LE(p[1], HoltWintersOptions{}.max_beta);
    EXPECT_LE(p[3], HoltWintersOptions{}.max_phi);
  }
}

TEST(HoltWintersTest, WarmStartsFromThePreviousFit) {
  const std::vector<double> y = Series(24 * 14, 100, 3.0);
  HoltWinters cold(HoltWintersOptions{});
  ASSERT_TRUE(cold.Fit(y).ok());
  HoltWinters warm(HoltWintersOptions{});
  warm.WarmStart(cold.name(), cold.parameters());
  ASSERT_TRUE(warm.Fit(y).ok());
  EXPECT_LE(warm.sse(), cold.sse() * 1.001) << "starting at the optimum keeps it";
  warm.WarmStart(warm.name(), {NAN, 0, 0, 1});  // ignored
  EXPECT_TRUE(warm.Fit(y).ok());
}

TEST(HoltWintersTest, RefusesWhatItCannotFit) {
  HoltWinters model(HoltWintersOptions{});
  EXPECT_EQ(model.Fit(Series(30, 100)).code(), absl::StatusCode::kFailedPrecondition);
  std::vector<double> y = Series(24 * 3, 100);
  y[10] = NAN;
  const absl::Status nan = model.Fit(y);
  EXPECT_EQ(nan.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(nan.message().find("value 10"), std::string::npos) << nan;
  y[10] = INFINITY;
  EXPECT_EQ(model.Fit(y).code(), absl::StatusCode::kInvalidArgument);
  HoltWintersOptions multiplicative;
  multiplicative.seasonality = Seasonality::kMultiplicative;
  std::vector<double> zeros = Series(24 * 3, 100);
  zeros[5] = 0;  // an hour without events
  EXPECT_EQ(HoltWinters(multiplicative).Fit(zeros).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(model.Fit(zeros).ok()) << "additive takes zeros";
}

TEST(LevelOnlyTest, FollowsTheLevel) {
  std::vector<double> y(50, 10.0);
  y.insert(y.end(), 50, 20.0);
  LevelOnly model;
  ASSERT_TRUE(model.Fit(y).ok());
  for (double v : model.Forecast(5)) EXPECT_NEAR(v, 20, 0.5);
  EXPECT_EQ(model.Fit(std::vector<double>(1, 1.0)).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(DoubleSeasonalTest, LearnsTheWeeklyPattern) {
  // Weekdays busy, weekends at 40%: a daily model cannot know Monday follows Sunday.
  auto truth = [](int t) {
    const int day = t / 24 % 7;
    return Daily(t, day >= 5 ? 40 : 100);
  };
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0, 1);
  std::vector<double> y;
  const int weeks = 4, extra = 24 * 4;  // the history ends on a Friday 00:00 (day 4 ends)
  for (int t = 0; t < 24 * 7 * weeks + extra; ++t) y.push_back(truth(t) + noise(rng));
  DoubleSeasonal model;
  ASSERT_TRUE(model.Fit(y).ok());
  const std::vector<double> f = model.Forecast(72);  // Friday, Saturday, Sunday
  double error = 0, daily_error = 0;
  HoltWinters daily(HoltWintersOptions{});
  ASSERT_TRUE(daily.Fit(y).ok());
  const std::vector<double> g = daily.Forecast(72);
  for (int h = 0; h < 72; ++h) {
    error += std::abs(f[h] - truth(y.size() + h)) / 72;
    daily_error += std::abs(g[h] - truth(y.size() + h)) / 72;
  }
  EXPECT_LT(error, 5) << "the weekend dip forecast";
  EXPECT_GT(daily_error, 3 * error) << "the single-season model misses it";
  EXPECT_EQ(model.Fit(std::vector<double>(335, 1.0)).code(), absl::StatusCode::kFailedPrecondition);
  std::vector<double> nan = y;
  nan.back() = NAN;
  EXPECT_EQ(model.Fit(nan).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shadowplane::forecast
