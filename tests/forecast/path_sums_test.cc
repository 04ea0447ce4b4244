// The paths' window sums: per path and region, by start hour; only windows that the paths and
// every region's point forecast cover; none when a region has no paths.
#include "forecast/path_sums.h"

#include "gtest/gtest.h"

namespace shadowplane::forecast {
namespace {

const absl::Time kFirst = absl::FromUnixSeconds(1796558400);

store::ForecastRecord Point(const std::string& region, std::vector<double> values) {
  store::ForecastRecord r;
  r.resource_id = "res";
  r.origin_region = region;
  r.first_hour = kFirst;
  r.values = std::move(values);
  return r;
}

// Two paths of four hours: eu's path p hour h is 10p + h; us's is 100 (and -5 once).
store::ForecastPathsRecord Paths() {
  store::ForecastPathsRecord p;
  p.resource_id = "res";
  p.computed_at = kFirst + absl::Minutes(5);
  p.first_hour = kFirst;
  p.paths = 2;
  p.horizon = 4;
  p.regions = {"total", "eu", "us"};
  p.values = {{0, 0, 0, 0, 0, 0, 0, 0},
              {0, 1, 2, 3, 10, 11, 12, 13},
              {100, 100, -5, 100, 100, 100, 100, 100}};
  return p;
}

TEST(PathSumsTest, EachStartSumsEveryPathAndRegionOverTheWindow) {
  const std::vector<store::ForecastRecord> records = {
      Point("eu", {1, 2, 3, 4, 5}), Point("us", {7, -1, 7, 7, 7}), Point("total", {0, 0, 0, 0})};
  const std::vector<store::PathSumsRecord> sums =
      PathSumsOf(records, Paths(), {2, 5}, {{"us", 1500.0}, {"asia", 9.0}});
  // Windows of 2 hours fit the 4 hours of paths at starts 0, 1 and 2 only.
  ASSERT_EQ(sums.size(), 3u);
  EXPECT_EQ(sums[0].start_hour, kFirst);
  EXPECT_EQ(sums[2].start_hour, kFirst + absl::Hours(2));
  EXPECT_EQ(sums[1].computed_at, kFirst + absl::Minutes(5));
  EXPECT_EQ(sums[1].window_hours, 2);
  EXPECT_EQ(sums[1].regions, (std::vector<std::string>{"eu", "us"})) << "no total";
  // Start 1: eu path 0 hours 1-2 = 3, us path 0 = 100 + 0 (a negative counts as none);
  // path 1: 23 and 200.
  EXPECT_EQ(sums[1].sums, (std::vector<double>{3, 100, 23, 200}));
  EXPECT_EQ(sums[1].expected, (std::vector<double>{5, 7}));
  EXPECT_EQ(sums[1].first_hour_requests, (std::vector<double>{2, 0}));
  EXPECT_EQ(sums[1].bytes_per_request, (std::vector<double>{0, 1500})) << "eu served none";
  EXPECT_EQ(sums[0].sums, (std::vector<double>{1, 200, 21, 200}));
}

TEST(PathSumsTest, NoneWithoutAWindowOrWhereARegionHasNoPathsOrNoPointForecast) {
  const std::vector<store::ForecastRecord> records = {Point("eu", {1, 2, 3, 4}),
                                                      Point("us", {7, 7, 7, 7})};
  EXPECT_TRUE(PathSumsOf(records, Paths(), {0, 3}).empty());
  EXPECT_TRUE(PathSumsOf(records, Paths(), {5, 3}).empty()) << "longer than the paths";
  std::vector<store::ForecastRecord> asia = records;
  asia.push_back(Point("asia", {1, 1, 1, 1}));
  EXPECT_TRUE(PathSumsOf(asia, Paths(), {2, 3}).empty()) << "asia has no paths";
  // The point forecast covers start 0 only.
  std::vector<store::ForecastRecord> short_point = {Point("eu", {1, 2}), Point("us", {7, 7, 7})};
  EXPECT_EQ(PathSumsOf(short_point, Paths(), {2, 3}).size(), 1u);
}

}  // namespace
}  // namespace shadowplane::forecast
