// The history a forecast is fitted to: every hour present, zeros where nothing was recorded.
#include "forecast/demand_history.h"

#include "gtest/gtest.h"

namespace shadowplane::forecast {
namespace {

store::DemandRow Row(const std::string& region, absl::Time hour, int64_t requests) {
  store::DemandRow row;
  row.origin_region = region;
  row.hour = hour;
  row.sums.requests = requests;
  return row;
}

TEST(DemandHistoryTest, HoursWithoutEventsAreZeros) {
  const absl::Time from = absl::FromUnixSeconds(1796558400);  // an hour boundary
  const std::vector<store::DemandRow> rows = {
      Row("eu-central", from, 5),
      Row("eu-central", from + absl::Hours(3), 7),
      Row("us-east", from + absl::Hours(1), 2),
      Row("us-east", from - absl::Hours(1), 100),  // before the range
      Row("us-east", from + absl::Hours(4), 100),  // at its end: outside
  };
  const HourlyHistory h = BuildHourlyHistory(rows, from + absl::Minutes(20), from + absl::Hours(4));
  EXPECT_EQ(h.first_hour, from) << "rounded down to the hour";
  EXPECT_EQ(h.regions.at("eu-central"), (std::vector<double>{5, 0, 0, 7}));
  EXPECT_EQ(h.regions.at("us-east"), (std::vector<double>{0, 2, 0, 0}));
  EXPECT_EQ(h.total, (std::vector<double>{5, 2, 0, 7}));
  EXPECT_TRUE(BuildHourlyHistory(rows, from, from).total.empty());
  EXPECT_EQ(BuildHourlyHistory({}, from, from + absl::Hours(2)).total, (std::vector<double>{0, 0}))
      << "no rows at all: zeros";
}

}  // namespace
}  // namespace shadowplane::forecast
