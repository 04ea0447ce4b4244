// The fleet's forecast of the current hour: each resource's median and interval bounds summed per
// region, a resource's newer forecast replacing its older, old forecasts left out, and a region
// that no resource forecasts any more published as 0 rather than left stale.
#include "forecast/fleet_outlook.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "absl/strings/match.h"

namespace shadowplane::forecast {
namespace {

store::ForecastRecord Record(const std::string& resource, const std::string& region, double value) {
  store::ForecastRecord r;
  r.resource_id = resource;
  r.origin_region = region;
  r.values = {value, value * 2};
  return r;  // no backtest: every quantile is the point forecast
}

TEST(FleetOutlookTest, SumsEachResourcesNewestForecastPerRegion) {
  prometheus::Registry registry;
  FleetOutlook outlook(&registry, absl::Hours(3));
  const absl::Time t0 = absl::FromUnixSeconds(1700000000);
  outlook.Note({Record("a", "us-east", 10), Record("a", "eu-central", 4), Record("a", "total", 14)},
               t0);
  outlook.Note({Record("b", "us-east", 5)}, t0);
  auto sums = outlook.Sums();
  ASSERT_EQ(sums.size(), 2u) << "the total is not a region";
  EXPECT_DOUBLE_EQ(sums["us-east"][1], 15);
  EXPECT_DOUBLE_EQ(sums["us-east"][0], 15) << "without a backtest the bounds are the median";
  EXPECT_DOUBLE_EQ(sums["eu-central"][2], 4);
  // A newer forecast of a replaces its older one.
  outlook.Note({Record("a", "us-east", 1)}, t0 + absl::Hours(1));
  sums = outlook.Sums();
  EXPECT_DOUBLE_EQ(sums["us-east"][1], 6);
  EXPECT_EQ(sums.count("eu-central"), 0u);
  // b's forecast ages out.
  outlook.Expire(t0 + absl::Hours(3) + absl::Minutes(1));
  sums = outlook.Sums();
  EXPECT_DOUBLE_EQ(sums["us-east"][1], 1);
  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_TRUE(absl::StrContains(
      text, "shadowplane_forecast_requests{origin_region=\"us-east\",quantile=\"0.5\"} 1"))
      << text;
  EXPECT_TRUE(absl::StrContains(
      text, "shadowplane_forecast_requests{origin_region=\"eu-central\",quantile=\"0.9\"} 0"))
      << "a region no longer forecast reads 0\n"
      << text;
}

}  // namespace
}  // namespace shadowplane::forecast
