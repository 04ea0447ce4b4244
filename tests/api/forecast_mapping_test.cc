// ForecastService messages <-> the predictor's structs: unset fields stay unset, every served
// field reaches the wire, and what is absent (backtest, realized accuracy, a total) stays absent.
#include "api/forecast_mapping.h"

#include "common/proto_time.h"
#include "gtest/gtest.h"

namespace shadowplane::api {
namespace {

namespace pb = shadowplane::v1;

const absl::Time kHour = absl::FromUnixSeconds(1767225600);

TEST(ForecastMappingTest, AQueryKeepsUnsetHorizonAndRealizedDaysUnset) {
  pb::PredictRequest request;
  request.set_resource_id("r");
  forecast::PredictQuery q = FromProto(request);
  EXPECT_FALSE(q.horizon_hours.has_value());
  EXPECT_TRUE(q.quantiles.empty());
  request.set_horizon_hours(6);
  request.add_quantiles(0.5);
  request.set_sample_paths(3);
  request.set_best_location(true);
  request.set_refresh(true);
  q = FromProto(request);
  EXPECT_EQ(q.horizon_hours, 6);
  EXPECT_EQ(q.quantiles, std::vector<double>{0.5});
  EXPECT_EQ(q.sample_paths, 3);
  EXPECT_TRUE(q.best_location);
  EXPECT_TRUE(q.refresh);
  pb::BacktestRequest backtest;
  EXPECT_FALSE(FromProto(backtest).realized_days.has_value());
  backtest.set_realized_days(0);
  EXPECT_EQ(FromProto(backtest).realized_days, 0) << "zero is a value the predictor refuses";
}

TEST(ForecastMappingTest, APredictionReachesTheWireWithWhatIsAbsentLeftAbsent) {
  forecast::Prediction p;
  p.resource_id = "r";
  p.first_hour = kHour;
  p.horizon_hours = 2;
  p.computed_at = kHour - absl::Minutes(5);
  p.computed_now = true;
  forecast::SeriesPrediction eu;
  eu.origin_region = "eu";
  eu.values = {1, 2};
  eu.baseline_values = {0.5, 1};
  eu.quantiles = {{0.5, {1, 2}}};
  eu.backtest = forecast::ModelAccuracy{"m", 10, 0.8};
  eu.backtest_origins = 24;
  eu.sample_paths = {1, 2, 3, 4};
  eu.realized = store::RealizedAccuracy{"eu", 3, 11, 0.9, 0.8, 0.95};
  p.regions.push_back(eu);
  p.total.origin_region = "total";
  p.total.values = {1, 2};
  p.sample_paths = 2;
  p.paths_hours = 2;
  p.best_location_now = "fra-1";
  p.best_location = {{"fra-1", {0.9, 0.8}}, {"iad-1", {0.1, 0.2}}};
  forecast::ResolvedEvent event;
  event.record.id = "e";
  event.record.starts_at = kHour;
  event.record.ends_at = kHour + absl::Hours(1);
  event.effect.uplift = 2;
  event.uplift_source = "given";
  p.events.push_back(event);

  pb::PredictResponse out;
  ToProto(p, &out);
  EXPECT_EQ(FromProtoTime(out.first_hour()), kHour);
  EXPECT_EQ(FromProtoTime(out.computed_at()), kHour - absl::Minutes(5));
  ASSERT_EQ(out.regions_size(), 1);
  const pb::SeriesForecast& r = out.regions(0);
  EXPECT_EQ(r.values_size(), 2);
  EXPECT_EQ(r.baseline_values(1), 1);
  ASSERT_EQ(r.quantiles_size(), 1);
  EXPECT_EQ(r.quantiles(0).level(), 0.5);
  EXPECT_TRUE(r.has_backtest());
  EXPECT_EQ(r.backtest().mase(), 0.8);
  EXPECT_EQ(r.sample_paths_size(), 4);
  EXPECT_TRUE(r.has_realized());
  EXPECT_EQ(r.realized().coverage_95(), 0.95);
  EXPECT_FALSE(out.total().has_backtest()) << "a fallback has no backtest";
  EXPECT_FALSE(out.total().has_realized());
  EXPECT_TRUE(out.total().baseline_values().empty());
  ASSERT_EQ(out.best_location_size(), 2);
  EXPECT_EQ(out.best_location(1).probability(1), 0.2);
  ASSERT_EQ(out.events_size(), 1);
  EXPECT_EQ(out.events(0).uplift(), 2);
  EXPECT_EQ(FromProtoTime(out.events(0).end_time()), kHour + absl::Hours(1));

  forecast::BacktestReport report;
  report.resource_id = "r";
  report.computed_at = kHour;
  forecast::SeriesBacktest s;
  s.origin_region = "total";
  s.candidates = {{"a", 1, 2}, {"b", 3, 4}};
  report.series.push_back(s);
  pb::BacktestResponse backtest;
  ToProto(report, &backtest);
  ASSERT_EQ(backtest.series_size(), 1);
  EXPECT_FALSE(backtest.series(0).has_forecast());
  ASSERT_EQ(backtest.series(0).candidates_size(), 2);
  EXPECT_EQ(backtest.series(0).candidates(1).mase(), 4);
}

}  // namespace
}  // namespace shadowplane::api
