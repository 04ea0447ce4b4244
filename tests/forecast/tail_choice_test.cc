// Choosing a model per series on its own last hours, and the service's default and fallback.
#include "forecast/tail_choice.h"

#include <cmath>
#include <random>

#include "forecast/default_model.h"
#include "forecast/double_seasonal.h"
#include "forecast/holt_winters.h"
#include "forecast/seasonal_naive.h"
#include "gtest/gtest.h"

namespace shadowplane::forecast {
namespace {

// Hourly demand with a daily shape, lower on weekends (days 5 and 6), and noise.
std::vector<double> Weekly(int hours, double noise, int seed = 3) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, noise);
  std::vector<double> y(hours);
  for (int t = 0; t < hours; ++t) {
    const double day = 100 + 40 * std::sin(2 * M_PI * (t % 24) / 24.0);
    y[t] = day * (t / 24 % 7 >= 5 ? 0.4 : 1.0) + n(rng);
  }
  return y;
}

std::vector<std::unique_ptr<ForecastModel>> NaiveDayAndWeek() {
  std::vector<std::unique_ptr<ForecastModel>> c;
  c.push_back(std::make_unique<SeasonalNaive>(24));
  c.push_back(std::make_unique<SeasonalNaive>(168));
  return c;
}

TEST(TailChoiceTest, PicksTheCandidateThatForecastTheLastHoursBest) {
  // A weekly pattern without noise: last week repeats exactly, yesterday does not (the series
  // ends on a Monday, after a weekend).
  const std::vector<double> y = Weekly(3 * 168 + 24, 0);
  TailChoice choice(NaiveDayAndWeek(), 48);
  ASSERT_TRUE(choice.Fit(y).ok());
  EXPECT_EQ(choice.name(), "seasonal_naive_168");
  EXPECT_NEAR(choice.holdout_mae(), 0, 1e-9);
  const std::vector<double> f = choice.Forecast(24);
  for (int h = 0; h < 24; ++h) EXPECT_NEAR(f[h], y[y.size() - 168 + h], 1e-9);

  // A pure daily pattern: both are exact on the tail; the tie goes to the first candidate.
  std::vector<double> daily(3 * 168);
  for (size_t t = 0; t < daily.size(); ++t) daily[t] = 10 + (t % 24);
  TailChoice tie(NaiveDayAndWeek(), 48);
  ASSERT_TRUE(tie.Fit(daily).ok());
  EXPECT_EQ(tie.name(), "seasonal_naive_24");
}

TEST(TailChoiceTest, AShortHistoryUsesTheFirstCandidateThatFits) {
  TailChoice choice(NaiveDayAndWeek(), 48);
  // 100 hours: holding out 48 leaves too little for the weekly candidate; the daily one competes
  // alone.
  ASSERT_TRUE(choice.Fit(Weekly(100, 1)).ok());
  EXPECT_EQ(choice.name(), "seasonal_naive_24");
  // 30 hours: no contest at all; the daily naive fits the whole history.
  TailChoice short_choice(NaiveDayAndWeek(), 48);
  ASSERT_TRUE(short_choice.Fit(Weekly(30, 1)).ok());
  EXPECT_EQ(short_choice.name(), "seasonal_naive_24");
  EXPECT_TRUE(std::isnan(short_choice.holdout_mae()));
  TailChoice too_short(NaiveDayAndWeek(), 48);
  EXPECT_EQ(too_short.Fit(Weekly(10, 1)).code(), absl::StatusCode::kFailedPrecondition);
  std::vector<double> nan = Weekly(400, 1);
  nan[7] = NAN;
  EXPECT_EQ(too_short.Fit(nan).code(), absl::StatusCode::kInvalidArgument);
}

TEST(TailChoiceTest, TheWinnerKeepsItsHoldoutParametersOverTheWholeHistory) {
  const std::vector<double> y = Weekly(4 * 168, 5);
  std::vector<std::unique_ptr<ForecastModel>> c;
  c.push_back(std::make_unique<DoubleSeasonal>(0.1));
  TailChoice choice(std::move(c), 48);
  ASSERT_TRUE(choice.Fit(y).ok());
  DoubleSeasonal head(0.1);
  ASSERT_TRUE(head.Fit(absl::MakeSpan(y).first(y.size() - 48)).ok());
  EXPECT_EQ(choice.parameters(), head.parameters()) << "searched once, on the head";
  // Update runs the same parameters over a longer history: the forecast moves on, they do not.
  const std::vector<double> longer = Weekly(4 * 168 + 24, 5);
  ASSERT_TRUE(choice.Update(longer).ok());
  EXPECT_EQ(choice.parameters(), head.parameters());
}

TEST(DefaultModelTest, DependsOnTheHistoryAvailable) {
  const std::vector<double> weeks = Weekly(3 * 168, 5);
  auto model = MakeDefaultModel(weeks.size());
  ASSERT_TRUE(model->Fit(weeks).ok());
  EXPECT_EQ(model->name(), "double_seasonal_24_168") << "a noisy weekly pattern";
  const std::vector<double> f = model->Forecast(48);
  double error = 0;
  const std::vector<double> truth = Weekly(3 * 168 + 48, 0);
  for (int h = 0; h < 48; ++h) error += std::abs(f[h] - truth[3 * 168 + h]) / 48;
  EXPECT_LT(error, 8) << "noise sd 5";

  const std::vector<double> days = Weekly(5 * 24, 1);
  auto young = MakeDefaultModel(days.size());
  ASSERT_TRUE(young->Fit(days).ok());
  EXPECT_TRUE(young->name() == "hw_add_damped_24" || young->name() == "seasonal_naive_24")
      << young->name();
  auto newborn = MakeDefaultModel(10);
  ASSERT_TRUE(newborn->Fit(Weekly(10, 1)).ok());
  EXPECT_EQ(newborn->name(), "level_only");

  EXPECT_EQ(MakeFallbackModel(500)->name(), "seasonal_naive_24");
  EXPECT_EQ(MakeFallbackModel(10)->name(), "level_only");
}

TEST(DefaultModelTest, WarmStartReachesTheNamedCandidate) {
  const std::vector<double> y = Weekly(3 * 168, 5);
  auto cold = MakeDefaultModel(y.size());
  ASSERT_TRUE(cold->Fit(y).ok());
  ASSERT_EQ(cold->name(), "double_seasonal_24_168");
  auto warm = MakeDefaultModel(y.size());
  warm->WarmStart(cold->name(), cold->parameters());
  ASSERT_TRUE(warm->Fit(y).ok());
  const std::vector<double> a = cold->parameters(), b = warm->parameters();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 0.05);
  // Parameters of another model, or out of bounds, are ignored.
  auto other = MakeDefaultModel(y.size());
  other->WarmStart("hw_add_damped_24", {0.5, 0.01, 0.1, 0.9});
  other->WarmStart("double_seasonal_24_168", {0.9, 0.1, 0.1, 0.5});  // alpha above 0.1
  EXPECT_TRUE(other->Fit(y).ok());
}

}  // namespace
}  // namespace shadowplane::forecast
