// Known events' arithmetic: shares of partial hours, the uplift applied to regions and their
// total (and taken out again), intervals scaled like the point forecast, outcomes measured over
// whole hours, the median as the learned uplift, and an uplift learned from past campaigns of a
// synthetic series through the forecaster itself.
#include "forecast/event_effects.h"

#include <cmath>
#include <random>

#include "forecast/forecaster.h"
#include "gtest/gtest.h"

namespace shadowplane::forecast {
namespace {

const absl::Time kHour = absl::FromUnixSeconds(1796558400);  // a whole hour

absl::Time At(double hours) { return kHour + absl::Seconds(hours * 3600); }

TEST(EventEffectsTest, WindowShareCountsThePartOfTheHourInside) {
  EXPECT_DOUBLE_EQ(WindowShare(kHour, At(0), At(1)), 1.0);
  EXPECT_DOUBLE_EQ(WindowShare(kHour, At(0.5), At(3)), 0.5);
  EXPECT_DOUBLE_EQ(WindowShare(kHour, At(0.25), At(0.5)), 0.25);
  EXPECT_DOUBLE_EQ(WindowShare(kHour, At(1), At(2)), 0.0) << "end is exclusive";
  EXPECT_DOUBLE_EQ(WindowShare(kHour, At(-3), At(0)), 0.0);
}

SeriesSet TwoRegions() {
  SeriesSet s;
  s.first_hour = kHour;
  s.names = {"eu", "us", "total"};
  s.values = {{10, 10, 10, 10, 10, 10}, {4, 4, 4, 4, 4, 4}, {15, 15, 15, 15, 15, 15}};
  return s;
}

TEST(EventEffectsTest, AResourceWideEventMultipliesEverySeriesInsideItsWindow) {
  const SeriesSet s = TwoRegions();
  // Hours 2 and 3 whole, hour 4 half.
  const std::vector<DemandEvent> events = {{At(2), At(4.5), {}, 2.0}};
  EXPECT_TRUE(AnyEffect(events, s));
  const auto out = ApplyEventEffects(events, s);
  EXPECT_EQ(out[0], (std::vector<double>{10, 10, 20, 20, 15, 10}));
  EXPECT_EQ(out[1], (std::vector<double>{4, 4, 8, 8, 6, 4}));
  EXPECT_EQ(out[2], (std::vector<double>{15, 15, 30, 30, 22.5, 15}));
}

TEST(EventEffectsTest, ARegionalEventMovesItsRegionAndAddsWhatItAddedToTheTotal) {
  const SeriesSet s = TwoRegions();
  const std::vector<DemandEvent> events = {{At(0), At(2), {"eu"}, 3.0}};
  const auto out = ApplyEventEffects(events, s);
  EXPECT_EQ(out[0], (std::vector<double>{30, 30, 10, 10, 10, 10}));
  EXPECT_EQ(out[1], s.values[1]) << "us is not affected";
  // The total gains what eu gained (2 x 10), not 3 x its own value.
  EXPECT_EQ(out[2], (std::vector<double>{35, 35, 15, 15, 15, 15}));
  // An event for a region the resource has no demand from changes nothing.
  EXPECT_FALSE(AnyEffect({{At(0), At(6), {"ap"}, 5.0}}, s));
  EXPECT_EQ(ApplyEventEffects({{At(0), At(6), {"ap"}, 5.0}}, s), s.values);
  // Outside the series' hours, nothing either.
  EXPECT_FALSE(AnyEffect({{At(6), At(9), {}, 5.0}}, s));
}

TEST(EventEffectsTest, OverlappingEventsComposeAndRemovingThemGivesTheBaselineBack) {
  const SeriesSet s = TwoRegions();
  const std::vector<DemandEvent> events = {
      {At(1), At(4), {}, 1.5}, {At(2.5), At(6), {"us"}, 2.0}, {At(3), At(5), {"eu", "us"}, 0.5}};
  const auto applied = ApplyEventEffects(events, s);
  // Hour 3: all x1.5; us x2 x0.5 = x1; eu x0.5.
  EXPECT_DOUBLE_EQ(applied[0][3], 10 * 1.5 * 0.5);
  EXPECT_DOUBLE_EQ(applied[1][3], 4 * 1.5 * 1.0);
  EXPECT_DOUBLE_EQ(applied[2][3], 1.5 * (15 + (0.5 - 1) * 10 + (1.0 - 1) * 4));
  SeriesSet adjusted = s;
  adjusted.values = applied;
  const auto removed = RemoveEventEffects(events, adjusted);
  for (size_t i = 0; i < s.values.size(); ++i) {
    for (size_t h = 0; h < s.values[i].size(); ++h) {
      EXPECT_NEAR(removed[i][h], s.values[i][h], 1e-9) << s.names[i] << " hour " << h;
    }
  }
}

TEST(EventEffectsTest, QuantilesScaleWithThePointForecast) {
  std::vector<double> q = {8, 8, 1};
  ScaleLikePoint({10, 10, 0}, {10, 20, 3}, q);
  EXPECT_EQ(q, (std::vector<double>{8, 16, 4})) << "a zero baseline shifts instead";
}

TEST(EventEffectsTest, OutcomesCountWholeHoursInsideTheWindow) {
  const std::vector<double> actual = {100, 200, 200, 150, 100};
  const std::vector<double> baseline = {100, 100, 100, 100, 100};
  // Window 0.5 .. 3.5: hours 1 and 2 whole.
  EventOutcome o = MeasureOutcome(At(0.5), At(3.5), kHour, actual, baseline);
  EXPECT_EQ(o.hours, 2);
  EXPECT_DOUBLE_EQ(o.ratio(), 2.0);
  // A window inside one hour: that hour.
  o = MeasureOutcome(At(3.2), At(3.4), kHour, actual, baseline);
  EXPECT_EQ(o.hours, 1);
  EXPECT_DOUBLE_EQ(o.ratio(), 1.5);
  // Past the data: nothing.
  EXPECT_EQ(MeasureOutcome(At(7), At(9), kHour, actual, baseline).hours, 0);
}

TEST(EventEffectsTest, TheLearnedUpliftIsTheMedianOutcome) {
  EXPECT_DOUBLE_EQ(LearnedUplift({}), 1.0);
  EXPECT_DOUBLE_EQ(LearnedUplift({{5, 200, 100}, {5, 900, 100}, {5, 150, 100}}), 2.0);
  EXPECT_DOUBLE_EQ(LearnedUplift({{5, 200, 100}, {5, 300, 100}}), 2.5);
  EXPECT_DOUBLE_EQ(LearnedUplift({{5, 200, 100}, {5, 50, 0}}), 2.0) << "no baseline, no ratio";
}

// Four weeks of a daily and weekly pattern with noise; campaigns multiply demand by 2.2 for 12
// hours in three of the weeks. Each campaign, measured against the forecaster's forecast from
// the history before it, says about 2.2; their median is the uplift learned.
TEST(EventEffectsTest, ACampaignUpliftIsLearnedFromPastCampaigns) {
  constexpr double kUplift = 2.2;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 0.04);
  const int hours = 5 * 168;
  std::vector<double> y(hours);
  for (int t = 0; t < hours; ++t) {
    const double weekly = (t / 24) % 7 >= 5 ? 0.7 : 1.0;
    y[t] = 500 * weekly * (1 + 0.5 * std::sin(2 * M_PI * t / 24.0)) * (1 + noise(rng));
  }
  const std::vector<int> starts = {2 * 168 + 30, 3 * 168 + 80, 4 * 168 + 10};
  for (int s : starts) {
    for (int t = s; t < s + 12; ++t) y[t] *= kUplift;
  }
  FakeClock clock(kHour);
  ForecasterOptions options;
  options.stored_horizon_hours = 24;
  Forecaster forecaster(nullptr, &clock, options, nullptr);
  std::vector<EventOutcome> outcomes;
  std::vector<DemandEvent> earlier;
  for (int s : starts) {
    const absl::Time first = kHour + absl::Hours(s);
    // The history before the campaign, with the earlier campaigns taken out as measured.
    SeriesSet history;
    history.first_hour = kHour;
    history.names = {"total"};
    history.values = {std::vector<double>(y.begin(), y.begin() + s)};
    const std::vector<double> clean = RemoveEventEffects(earlier, history)[0];
    const store::ForecastRecord baseline =
        forecaster.ForecastSeries("total", clean, first, nullptr);
    const std::vector<double> actual(y.begin() + s, y.begin() + s + 24);
    const EventOutcome o =
        MeasureOutcome(first, first + absl::Hours(12), first, actual, baseline.values);
    EXPECT_EQ(o.hours, 12);
    EXPECT_NEAR(o.ratio(), kUplift, 0.2) << "campaign at hour " << s;
    outcomes.push_back(o);
    earlier.push_back({first, first + absl::Hours(12), {}, o.ratio()});
  }
  EXPECT_NEAR(LearnedUplift(outcomes), kUplift, 0.12);
}

}  // namespace
}  // namespace shadowplane::forecast
