// The freeze model: the default before enough cutovers, a fit that recovers known coefficients,
// no negative coefficients, and a high estimate above the measurements.
#include "migration/freeze_model.h"

#include <random>

#include "gtest/gtest.h"

namespace shadowplane::migration {
namespace {

constexpr int64_t kMiB = 1024 * 1024;

TEST(FreezeModelTest, TheDefaultStandsUntilEnoughCutoversWereMeasured) {
  const FreezeModel d = DefaultFreezeModel();
  EXPECT_EQ(d.samples, 0);
  EXPECT_DOUBLE_EQ(d.Expected(100 * kMiB, 10), 0.5 + 0.5 + 0.05);
  EXPECT_GE(d.High(100 * kMiB, 10), 1.5 * d.Expected(100 * kMiB, 10));
  std::vector<CutoverSample> few(kMinSamples - 1, {kMiB, 1, 9.0});
  EXPECT_EQ(FitFreezeModel(few).samples, 0);
  // Cutovers all of one size cannot separate the terms: still the default.
  std::vector<CutoverSample> same(20, {kMiB, 1, 9.0});
  EXPECT_EQ(FitFreezeModel(same).samples, 0);
}

TEST(FreezeModelTest, RecoversTheCoefficientsOfMeasuredCutovers) {
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int64_t> mib(0, 500), files(1, 200);
  std::normal_distribution<double> noise(0, 0.02);
  std::vector<CutoverSample> samples;
  for (int i = 0; i < 60; ++i) {
    CutoverSample s{mib(rng) * kMiB, files(rng), 0};
    s.freeze_seconds = 0.3 + 0.004 * (s.dirty_bytes / kMiB) + 0.01 * s.dirty_files + noise(rng);
    samples.push_back(s);
  }
  const FreezeModel m = FitFreezeModel(samples);
  EXPECT_EQ(m.samples, 60);
  EXPECT_NEAR(m.base_seconds, 0.3, 0.02);
  EXPECT_NEAR(m.seconds_per_mib, 0.004, 0.0002);
  EXPECT_NEAR(m.seconds_per_file, 0.01, 0.0005);
  EXPECT_GT(m.residual_p95_seconds, 0);
  EXPECT_LT(m.residual_p95_seconds, 0.1);
  int above = 0;
  for (const CutoverSample& s : samples)
    above += m.High(s.dirty_bytes, s.dirty_files) >= s.freeze_seconds;
  EXPECT_GE(above, 57) << "the high estimate covers about 95% of cutovers";
}

TEST(FreezeModelTest, CoefficientsNeverGoNegative) {
  // Freezes that shrink with bytes (noise on a small range) must not give a negative slope.
  std::vector<CutoverSample> samples;
  for (int i = 0; i < 10; ++i) {
    samples.push_back({i * kMiB, 1 + i % 3, 1.0 - 0.001 * i});
  }
  const FreezeModel m = FitFreezeModel(samples);
  EXPECT_GE(m.base_seconds, 0);
  EXPECT_GE(m.seconds_per_mib, 0);
  EXPECT_GE(m.seconds_per_file, 0);
  EXPECT_NEAR(m.Expected(5 * kMiB, 2), 0.995, 0.05);
}

}  // namespace
}  // namespace shadowplane::migration
