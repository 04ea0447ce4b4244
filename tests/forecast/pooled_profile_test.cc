// Cold start: a young resource borrows other resources' hour-of-week shape at its own level.
#include "forecast/pooled_profile.h"

#include <cmath>

#include "forecast/best_location_chain.h"
#include "gtest/gtest.h"

namespace shadowplane::forecast {
namespace {

const absl::Time kMonday = absl::FromCivil(absl::CivilHour(2025, 1, 20, 0), absl::UTCTimeZone());

// Others: a daily shape, quieter at weekends, two weeks ending at Monday 00:00.
double Shape(absl::Time t) {
  const int w = HourOfWeek(t);
  return (100 + 50 * std::sin(2 * M_PI * (w % 24) / 24.0)) * (w >= 120 ? 0.5 : 1.0);
}

TEST(PooledProfileTest, BorrowsTheShapeAtTheResourcesOwnLevel) {
  std::vector<double> others(336);
  for (int t = 0; t < 336; ++t) others[t] = Shape(kMonday - absl::Hours(336 - t));
  // Ten hours of its own at a fifth of the others' level.
  std::vector<double> own(10);
  for (int t = 0; t < 10; ++t) own[t] = Shape(kMonday - absl::Hours(10 - t)) / 5;
  auto f = PooledProfileForecast(own, others, kMonday, 48);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->size(), 48u);
  for (int h = 0; h < 48; ++h) EXPECT_NEAR((*f)[h], Shape(kMonday + absl::Hours(h)) / 5, 1e-9) << h;
}

TEST(PooledProfileTest, NeedsAWeekOfOthersWithRequests) {
  EXPECT_EQ(
      PooledProfileForecast({1, 2}, std::vector<double>(100, 1.0), kMonday, 4).status().code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      PooledProfileForecast({1, 2}, std::vector<double>(200, 0.0), kMonday, 4).status().code(),
      absl::StatusCode::kFailedPrecondition);
  std::vector<double> others(200, 1.0);
  others[3] = NAN;
  EXPECT_EQ(PooledProfileForecast({1, 2}, others, kMonday, 4).status().code(),
            absl::StatusCode::kInvalidArgument);
  // No own requests yet: a forecast of zeros, not an error.
  auto zero = PooledProfileForecast({0, 0}, std::vector<double>(200, 1.0), kMonday, 3);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(*zero, std::vector<double>(3, 0.0));
}

}  // namespace
}  // namespace shadowplane::forecast
