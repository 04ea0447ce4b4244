// Rolling-origin backtests, selection and combination, intervals and joint sample paths on
// simulated series whose truth is known.
#include "forecast/ensemble.h"

#include <cmath>
#include <random>

#include "absl/strings/match.h"
#include "forecast/intervals.h"
#include "forecast/seasonal_mean.h"
#include "forecast/seasonal_naive.h"
#include "gtest/gtest.h"

namespace shadowplane::forecast {
namespace {

double DailyShape(int t) { return 100 + 40 * std::sin(2 * M_PI * (t % 24) / 24.0); }

TEST(BacktestTest, ErrorsAreLaidOutByOriginThenLead) {
  std::vector<double> y(400);
  for (int t = 0; t < 400; ++t) y[t] = t;  // a ramp: naive 24 is behind by 24 or 48
  SeasonalNaive naive(24);
  BacktestOptions options;
  options.horizon = 48;
  options.origins = 10;
  auto r = RunBacktest(naive, y, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->origins, 10);
  ASSERT_EQ(r->errors.size(), 480u);
  for (int k = 0; k < 10; ++k) {
    for (int j = 0; j < 48; ++j)
      EXPECT_EQ(r->errors[k * 48 + j], j < 24 ? 24 : 48) << k << " " << j;
  }
  // The final forecast starts after the last hour.
  EXPECT_EQ(r->forecast[0], 400 - 24);
  EXPECT_NEAR(r->mae, 36, 1e-9);

  options.origins = 96;
  options.min_origins = 400;
  const absl::Status few = RunBacktest(naive, y, options).status();
  EXPECT_EQ(few.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(few.message(), "leave 329 backtest origins")) << few;
}

TEST(ObserveTest, MovingAFittedModelOnEqualsRunningItOverTheLongerHistory) {
  std::vector<double> y(5 * 168);
  for (size_t t = 0; t < y.size(); ++t) y[t] = DailyShape(t) * (t / 24 % 7 >= 5 ? 0.6 : 1) + t % 7;
  const absl::Span<const double> all(y), head = all.first(3 * 168 + 5);
  std::vector<std::unique_ptr<ForecastModel>> models = DefaultCandidates();
  for (auto& model : models) {
    ASSERT_TRUE(model->Fit(head).ok()) << model->name();
    for (size_t t = head.size(); t < y.size(); ++t) model->Observe(y[t]);
    const std::vector<double> observed = model->Forecast(30);
    ASSERT_TRUE(model->Update(all).ok());  // the same parameters, over everything
    const std::vector<double> updated = model->Forecast(30);
    for (int j = 0; j < 30; ++j) EXPECT_NEAR(observed[j], updated[j], 1e-6) << model->name();
  }
}

TEST(SeasonalMeanTest, AveragesTheSameHourOverTheLastSeasons) {
  std::vector<double> y(3 * 24);
  for (int t = 0; t < 72; ++t) y[t] = (t % 24) + 10 * (t / 24);  // days at +0, +10, +20
  SeasonalMean mean(24, 3);
  ASSERT_TRUE(mean.Fit(y).ok());
  EXPECT_EQ(mean.name(), "seasonal_mean_24x3");
  EXPECT_DOUBLE_EQ(mean.Forecast(1)[0], 10);  // hour 0: (0 + 10 + 20) / 3
  mean.Observe(30);                           // hour 0 of day 4: the day at +0 leaves
  EXPECT_DOUBLE_EQ(mean.Forecast(24)[23], (10 + 20 + 30) / 3.0);
  EXPECT_DOUBLE_EQ(mean.Forecast(1)[0], (1 + 11 + 21) / 3.0);
  EXPECT_EQ(mean.Fit(std::vector<double>(71, 1.0)).code(), absl::StatusCode::kFailedPrecondition);
}

// Daily shape plus independent noise of standard deviation `sigma`.
std::vector<double> Noisy(int hours, double sigma, std::mt19937& rng) {
  std::normal_distribution<double> noise(0, sigma);
  std::vector<double> y(hours);
  for (int t = 0; t < hours; ++t) y[t] = DailyShape(t) + noise(rng);
  return y;
}

TEST(EnsembleTest, IntervalsCoverTheirNominalShareOfNewData) {
  // 60 series of 6 weeks; each forecast is checked against the next 48 hours of the same process.
  std::mt19937 rng(11);
  int in80 = 0, in95 = 0, points = 0;
  for (int s = 0; s < 60; ++s) {
    const std::vector<double> all = Noisy(6 * 168 + 48, 8, rng);
    const std::vector<double> history(all.begin(), all.end() - 48);
    auto f = ForecastEnsemble(DefaultCandidates(), history, EnsembleOptions{});
    ASSERT_TRUE(f.ok()) << f.status();
    // Spread 1: the noise does not change between the backtest and the future here.
    auto q = ForecastQuantiles(*f, {0.025, 0.1, 0.9, 0.975}, {2, 1.0, 1.0});
    ASSERT_TRUE(q.ok());
    for (int j = 0; j < 48; ++j) {
      const double actual = all[history.size() + j];
      in80 += (*q)[1][j] <= actual && actual <= (*q)[2][j];
      in95 += (*q)[0][j] <= actual && actual <= (*q)[3][j];
      ++points;
    }
  }
  EXPECT_NEAR(100.0 * in80 / points, 80, 5);
  EXPECT_NEAR(100.0 * in95 / points, 95, 3);
}

TEST(EnsembleTest, SelectsTheModelThatGeneratedTheSeries) {
  std::mt19937 rng(5);
  // A weekly pattern that repeats exactly (a seasonal naive 168 process, no noise): nothing beats
  // last week, which is perfect.
  std::vector<double> weekly(5 * 168);
  std::uniform_real_distribution<double> u(10, 200);
  for (int t = 0; t < 168; ++t) weekly[t] = u(rng);
  for (size_t t = 168; t < weekly.size(); ++t) weekly[t] = weekly[t - 168];
  auto w = ForecastEnsemble(DefaultCandidates(), weekly, EnsembleOptions{});
  ASSERT_TRUE(w.ok());
  // Last week is perfect (the mean of the last three weeks is too, up to rounding).
  ASSERT_FALSE(w->models.empty());
  EXPECT_EQ(w->models[0], "seasonal_naive_168") << w->method;
  EXPECT_NEAR(w->smape, 0, 1e-9);
  for (int j = 0; j < 48; ++j) EXPECT_NEAR(w->point[j], weekly[weekly.size() - 168 + j], 1e-9);

  // A fixed daily shape under noise: smoothing averages the noise away, naive 24 carries it over.
  const std::vector<double> daily = Noisy(6 * 168, 10, rng);
  auto d = ForecastEnsemble(DefaultCandidates(), daily, EnsembleOptions{});
  ASSERT_TRUE(d.ok());
  size_t heaviest = 0;
  for (size_t i = 1; i < d->weights.size(); ++i) {
    if (d->weights[i] > d->weights[heaviest]) heaviest = i;
  }
  EXPECT_EQ(d->models[heaviest], "double_seasonal_24_168") << d->method;
  double sum = 0;
  for (double wgt : d->weights) sum += wgt;
  EXPECT_NEAR(sum, 1, 1e-12);
  ASSERT_EQ(d->candidates.size(), 5u) << "each candidate's accuracy is kept";
  for (const BacktestResult& c : d->candidates) EXPECT_GT(c.mase, 0) << c.model;
}

TEST(EnsembleTest, ATooShortSeriesFallsBackAndSaysSo) {
  std::mt19937 rng(2);
  auto f = ForecastEnsemble(DefaultCandidates(), Noisy(60, 1, rng), EnsembleOptions{});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->method, "fallback");
  EXPECT_EQ(f->models, std::vector<std::string>{"seasonal_naive_24"});
  EXPECT_TRUE(absl::StrContains(f->note, "too few to backtest")) << f->note;
  EXPECT_EQ(f->point.size(), 48u);
  auto q = ForecastQuantiles(*f, {0.1, 0.9});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)[0], f->point) << "no backtest, no spread";
  EXPECT_EQ(ForecastEnsemble(DefaultCandidates(), {}, EnsembleOptions{}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ForecastEnsemble(DefaultCandidates(), {1, NAN, 3}, EnsembleOptions{}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EnsembleTest, JointPathsKeepTheRegionsCorrelation) {
  for (const double rho : {0.9, 0.0}) {
    // Two regions sharing part of their noise: corr(e_a, e_b) = rho.
    std::mt19937 rng(7);
    std::normal_distribution<double> z(0, 10);
    std::vector<double> a(6 * 168), b(6 * 168);
    for (size_t t = 0; t < a.size(); ++t) {
      const double shared = z(rng), own_a = z(rng), own_b = z(rng);
      a[t] = DailyShape(t) + std::sqrt(rho) * shared + std::sqrt(1 - rho) * own_a;
      b[t] = 0.5 * DailyShape(t + 6) + std::sqrt(rho) * shared + std::sqrt(1 - rho) * own_b;
    }
    auto fa = ForecastEnsemble(DefaultCandidates(), a, EnsembleOptions{});
    auto fb = ForecastEnsemble(DefaultCandidates(), b, EnsembleOptions{});
    ASSERT_TRUE(fa.ok() && fb.ok());
    auto paths = SampleJointPaths({&*fa, &*fb}, 400, 1);
    ASSERT_TRUE(paths.ok()) << paths.status();
    ASSERT_EQ(paths->values.size(), 2u);
    // Correlation across paths at each lead, averaged over the first 6 leads (where the errors
    // are closest to the noise).
    double mean_corr = 0;
    for (int j = 0; j < 6; ++j) {
      double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
      for (int p = 0; p < 400; ++p) {
        const double x = paths->values[0][p * 48 + j], y = paths->values[1][p * 48 + j];
        sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y;
      }
      const double n = 400, cov = sab / n - sa / n * sb / n;
      mean_corr += cov / std::sqrt((saa / n - sa * sa / n / n) * (sbb / n - sb * sb / n / n)) / 6;
    }
    EXPECT_NEAR(mean_corr, rho, 0.2) << "rho " << rho;
  }
}

TEST(EnsembleTest, BadInputIsRefused) {
  std::mt19937 rng(3);
  auto f = ForecastEnsemble(DefaultCandidates(), Noisy(4 * 168, 3, rng), EnsembleOptions{});
  ASSERT_TRUE(f.ok());
  for (double q : {0.0, 1.0, -0.1, 1.5, std::nan("")}) {
    EXPECT_EQ(ForecastQuantiles(*f, {0.5, q}).status().code(), absl::StatusCode::kInvalidArgument)
        << q;
  }
  EXPECT_EQ(SampleJointPaths({&*f}, 0, 1).status().code(), absl::StatusCode::kInvalidArgument);
  auto shorter = ForecastEnsemble(DefaultCandidates(), Noisy(404, 3, rng), EnsembleOptions{});
  ASSERT_TRUE(shorter.ok());
  EXPECT_EQ(SampleJointPaths({&*f, &*shorter}, 10, 1).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace shadowplane::forecast
