// Scheduled forecasts and Predict against a real PostgreSQL (label pg): which resources are due,
// one replica at a time under the lease, warm starts, retention, and Predict's answers.
#include "forecast/forecast_refresher.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cmath>
#include <pqxx/pqxx>
#include <tuple>

#include "absl/strings/match.h"
#include "forecast/predictor.h"
#include "gtest/gtest.h"
#include "store/location_repository.h"
#include "store/sql_time.h"
#include "support/test_database.h"

namespace shadowplane::forecast {
namespace {

constexpr char kBusy[] = "aaaaaaaa-0000-4000-8000-000000000001";
constexpr char kYoung[] = "aaaaaaaa-0000-4000-8000-000000000002";
constexpr char kSilent[] = "aaaaaaaa-0000-4000-8000-000000000003";
const absl::Time kNow = absl::FromUnixSeconds(1796558400) + absl::Minutes(20);
const absl::Time kHour = absl::FromUnixSeconds(1796558400);

// A daily pattern with a little deterministic noise (-2..2), so that backtests have errors.
int Requests(int64_t unix_hour) {
  return static_cast<int>(std::lround(40 + 30 * std::sin(2 * M_PI * (unix_hour % 24) / 24.0))) +
         static_cast<int>(unix_hour * 2654435761u % 5) - 2;
}

class ForecastRefresherTest : public testing::MigratedDatabaseTest {
 protected:
  void SetUp() override {
    MigratedDatabaseTest::SetUp();
    ASSERT_TRUE(pool_
                    ->Run("seeding",
                          [&](pqxx::connection& conn) -> absl::Status {
                            pqxx::work txn(conn);
                            for (const char* id : {kBusy, kYoung, kSilent}) {
                              txn.exec_params(
                                  "INSERT INTO resources (id, name, created_at) VALUES "
                                  "($1::uuid, 'r', now())",
                                  id);
                            }
                            // kBusy: three weeks from two regions; kYoung: 30 hours from one.
                            const int64_t now_hour = absl::ToUnixSeconds(kHour) / 3600;
                            for (int64_t h = now_hour - 21 * 24; h < now_hour; ++h) {
                              const std::string hour =
                                  store::ToSqlTime(absl::FromUnixSeconds(h * 3600));
                              txn.exec_params(
                                  "INSERT INTO demand_hourly (resource_id, origin_region, hour, "
                                  "requests, clients_hll) VALUES ($1::uuid, 'eu', $2::timestamptz, "
                                  "$3, ''), ($1::uuid, 'us', $2::timestamptz, 5, '')",
                                  kBusy, hour, Requests(h));
                              if (h >= now_hour - 30) {
                                txn.exec_params(
                                    "INSERT INTO demand_hourly (resource_id, origin_region, hour, "
                                    "requests, clients_hll) VALUES ($1::uuid, 'eu', "
                                    "$2::timestamptz, 3, '')",
                                    kYoung, hour);
                              }
                            }
                            txn.commit();
                            return absl::OkStatus();
                          })
                    .ok());
    telemetry_ = std::make_unique<store::TelemetryRepository>(pool_.get());
    forecasts_ = std::make_unique<store::ForecastRepository>(pool_.get());
    leases_ = std::make_unique<store::LeaseStore>(pool_.get());
    ForecasterOptions options;
    options.stored_horizon_hours = 54;
    options.path_sums = {24, 3};  // the planner's window sums
    forecaster_ = std::make_unique<Forecaster>(telemetry_.get(), &clock_, options, nullptr);
    workers_ = std::make_unique<WorkerPool>("forecast", 2, 8);
  }

  std::unique_ptr<ForecastRefresher> Refresher(const std::string& owner) {
    RefresherOptions options;
    options.owner = owner;
    options.lease_ttl = absl::Minutes(5);
    options.refit_hours = 6;
    options.retention = absl::Hours(24 * 2);
    return std::make_unique<ForecastRefresher>(forecaster_.get(), forecasts_.get(), leases_.get(),
                                               &clock_, workers_.get(), options, nullptr);
  }

  FakeClock clock_{kNow};
  std::unique_ptr<store::TelemetryRepository> telemetry_;
  std::unique_ptr<store::ForecastRepository> forecasts_;
  std::unique_ptr<store::LeaseStore> leases_;
  std::unique_ptr<Forecaster> forecaster_;
  std::unique_ptr<WorkerPool> workers_;
};

TEST_F(ForecastRefresherTest, ForecastsResourcesWithDemandOnceEveryRefitHours) {
  auto a = Refresher("replica-a"), b = Refresher("replica-b");
  auto pass = a->RunOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_TRUE(pass->leader);
  EXPECT_EQ(pass->due, 2) << "the silent resource has nothing to forecast";
  EXPECT_EQ(pass->refreshed, 2);
  EXPECT_EQ(pass->failed, 0);
  auto other = b->RunOnce();
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->leader) << "one replica at a time";
  EXPECT_EQ(other->refreshed, 0);

  auto busy = forecasts_->Latest(kBusy);
  ASSERT_TRUE(busy.ok());
  ASSERT_EQ(busy->size(), 3u);  // eu, total, us (by region name)
  const store::ForecastRecord& eu = (*busy)[0];
  EXPECT_EQ(eu.origin_region, "eu");
  EXPECT_EQ(eu.first_hour, kHour) << "the current hour is the first forecast";
  EXPECT_EQ(eu.computed_at, kNow);
  EXPECT_EQ(eu.history_hours, 21 * 24);
  ASSERT_EQ(eu.values.size(), 54u);
  const int64_t first = absl::ToUnixSeconds(kHour) / 3600;
  for (int h = 0; h < 54; ++h) EXPECT_NEAR(eu.values[h], Requests(first + h), 5) << h;
  auto young = forecasts_->Latest(kYoung);
  ASSERT_TRUE(young.ok());
  ASSERT_EQ(young->size(), 2u);
  EXPECT_EQ((*young)[0].history_hours, 30) << "history starts at the first request";

  // Five hours later nothing is due; six hours later both are, warm-started.
  clock_.Advance(absl::Hours(5));
  EXPECT_EQ(a->RunOnce()->due, 0);
  clock_.Advance(absl::Hours(1));
  auto again = a->RunOnce();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->refreshed, 2);
  auto newer = forecasts_->Latest(kBusy);
  ASSERT_TRUE(newer.ok());
  EXPECT_EQ((*newer)[0].first_hour, kHour + absl::Hours(6));
  EXPECT_EQ((*newer)[0].history_hours, 21 * 24 + 6) << "zeros for the hours without requests";

  // After the retention (2 days here) old forecasts go.
  clock_.Advance(absl::Hours(24 * 2));
  auto late = a->RunOnce();
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->pruned, 5);
}

TEST_F(ForecastRefresherTest, StoresJointPathsAndScoresForecastsOnceTheirHoursPassed) {
  prometheus::Registry registry;
  ForecastScorer scorer(forecasts_.get(), telemetry_.get(), &clock_, ScorerOptions{}, &registry);
  RefresherOptions options;
  options.owner = "replica-a";
  ForecastRefresher refresher(forecaster_.get(), forecasts_.get(), leases_.get(), &clock_,
                              workers_.get(), options, nullptr, &scorer);
  ASSERT_TRUE(refresher.RunOnce().ok());
  auto busy = forecasts_->Latest(kBusy);
  ASSERT_TRUE(busy.ok());
  for (const store::ForecastRecord& r : *busy) {
    EXPECT_NE(r.method, "fallback") << r.origin_region << " " << r.selection_note;
    EXPECT_GT(r.backtest_origins, 0);
    EXPECT_EQ(r.candidate_models.size(), 4u) << "3 weeks: too short for the 3-week mean";
    // us is a constant 5: a perfect backtest, so no spread.
    EXPECT_EQ(r.unit_quantiles.size(), r.origin_region == "us" ? 0u : ErrorProfile::kLevels)
        << r.origin_region;
  }
  auto paths = forecasts_->LatestPaths(kBusy);
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->regions, (std::vector<std::string>{"eu", "us", "total"}));
  EXPECT_EQ(paths->paths, 200);
  EXPECT_EQ(paths->horizon, 48);
  EXPECT_EQ(paths->computed_at, kNow);
  // With them, their sums over 24 hours from each of the first 3 hours, regions only.
  for (int k = 0; k < 4; ++k) {
    auto sums = forecasts_->PathSumsAt({kBusy}, paths->first_hour + absl::Hours(k), 24);
    ASSERT_TRUE(sums.ok()) << sums.status();
    if (k == 3) {
      EXPECT_TRUE(sums->empty());
      continue;
    }
    ASSERT_EQ(sums->size(), 1u) << k;
    const store::PathSumsRecord& s = sums->at(kBusy);
    EXPECT_EQ(s.regions, (std::vector<std::string>{"eu", "us"}));
    EXPECT_EQ(s.paths, 200);
    EXPECT_EQ(s.computed_at, kNow);
    for (int p : {0, 199}) {
      double want = 0, max = 0;
      for (int h = k; h < k + 24; ++h) want += std::max(0.0f, paths->values[0][p * 48 + h]);
      for (int q = 0; q < 200; ++q) max = std::max(max, s.sums[2 * q]);
      // Both sides are 16-bit codes: the paths' per hour, the sums' per region.
      EXPECT_NEAR(s.sums[2 * p], want, 1e-3 * max) << "eu path " << p << " from hour " << k;
    }
  }
  // kYoung (30 hours, 3 an hour from eu) borrows the shape of kBusy's eu demand at its own level.
  auto young = forecasts_->Latest(kYoung);
  ASSERT_TRUE(young.ok());
  ASSERT_EQ(young->size(), 2u);
  for (const store::ForecastRecord& r : *young) {
    EXPECT_EQ(r.model, "pooled_profile") << r.origin_region;
    EXPECT_TRUE(absl::StrContains(r.selection_note, "under two days")) << r.selection_note;
  }
  const store::ForecastRecord& borrowed = (*young)[0];
  const int64_t now_hour = absl::ToUnixSeconds(kHour) / 3600;
  // kBusy's eu peaks at hour 6 UTC (sin) and bottoms at 18: so does kYoung's forecast.
  const int peak = static_cast<int>((6 - now_hour % 24 + 24) % 24);
  const int trough = static_cast<int>((18 - now_hour % 24 + 24) % 24);
  EXPECT_GT(borrowed.values[peak], 3 * borrowed.values[trough]);
  double mean = 0;
  for (int h = 0; h < 24; ++h) mean += borrowed.values[h] / 24;
  EXPECT_NEAR(mean, 3, 1.5) << "its own level, not kBusy's";
  EXPECT_EQ(forecasts_->LatestPaths(kYoung).status().code(), absl::StatusCode::kNotFound)
      << "no backtest, no paths";

  // The day forecast happens as forecast (kBusy's pattern goes on), then the scorer runs.
  ASSERT_TRUE(pool_
                  ->Run("the day after",
                        [&](pqxx::connection& conn) -> absl::Status {
                          pqxx::work txn(conn);
                          const int64_t first = absl::ToUnixSeconds(kHour) / 3600;
                          for (int64_t h = first; h < first + 24; ++h) {
                            txn.exec_params(
                                "INSERT INTO demand_hourly (resource_id, origin_region, hour, "
                                "requests, clients_hll) VALUES ($1::uuid, 'eu', $2::timestamptz, "
                                "$3, ''), ($1::uuid, 'us', $2::timestamptz, 5, '')",
                                kBusy, store::ToSqlTime(absl::FromUnixSeconds(h * 3600)),
                                Requests(h));
                          }
                          txn.commit();
                          return absl::OkStatus();
                        })
                  .ok());
  EXPECT_EQ(*scorer.RunOnce(), 0) << "not before the scored hours have passed";
  clock_.Advance(absl::Hours(24));
  auto scored = scorer.RunOnce();
  ASSERT_TRUE(scored.ok()) << scored.status();
  EXPECT_EQ(*scored, 5) << "kBusy's three series and kYoung's two";
  EXPECT_EQ(*scorer.RunOnce(), 0) << "each forecast is scored once";
  auto realized = forecasts_->Realized(kBusy, kHour - absl::Hours(1));
  ASSERT_TRUE(realized.ok());
  ASSERT_EQ(realized->size(), 3u);
  for (const store::RealizedAccuracy& a : *realized) {
    EXPECT_EQ(a.forecasts, 1);
    EXPECT_LT(a.mean_smape, 10) << a.origin_region << ": the pattern went on as forecast";
    EXPECT_GE(a.coverage_95, a.coverage_80);
  }
  // kYoung's day did not happen (no requests): its forecast of 3 an hour scores badly.
  auto missed = forecasts_->Realized(kYoung, kHour - absl::Hours(1));
  ASSERT_TRUE(missed.ok());
  ASSERT_FALSE(missed->empty());
  EXPECT_NEAR((*missed)[0].mean_smape, 200, 1e-9);
  const std::string metrics = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_TRUE(absl::StrContains(metrics, "shadowplane_forecasts_scored_total 5")) << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "shadowplane_forecast_smape_count 5"));
  EXPECT_TRUE(
      absl::StrContains(metrics, "shadowplane_forecast_interval_coverage_count{level=\"80\"} 5"));
}

TEST_F(ForecastRefresherTest, AStoppedRefresherDoesNothing) {
  auto a = Refresher("replica-a");
  a->Stop();
  auto pass = a->RunOnce();
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->refreshed, 0);
  EXPECT_TRUE(forecasts_->Latest(kBusy)->empty());
}

TEST_F(ForecastRefresherTest, PredictServesStoredForecastsAndComputesWhenTheyFallShort) {
  PredictorOptions options;
  options.max_horizon_hours = 48;
  Predictor predictor(forecaster_.get(), forecasts_.get(), telemetry_.get(), &clock_, options,
                      nullptr);
  PredictQuery request;
  request.resource_id = kBusy;
  absl::StatusOr<Prediction> first = predictor.Predict(request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->computed_now) << "nothing stored yet";
  EXPECT_EQ(first->total.values.size(), 48u);
  absl::StatusOr<Prediction> second = predictor.Predict(request);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->computed_now);
  EXPECT_EQ(second->total.forecast_id, first->total.forecast_id);
  // Seven hours on, 48 hours from now is beyond the 54 stored: computed again.
  clock_.Advance(absl::Hours(7));
  absl::StatusOr<Prediction> later = predictor.Predict(request);
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->computed_now);
  // Shorter horizons are served from what is stored, shifted to the current hour.
  clock_.Advance(absl::Hours(3));
  request.horizon_hours = 6;
  absl::StatusOr<Prediction> shifted = predictor.Predict(request);
  ASSERT_TRUE(shifted.ok());
  EXPECT_FALSE(shifted->computed_now);
  ASSERT_EQ(shifted->total.values.size(), 6u);
  EXPECT_EQ(shifted->total.values[0], later->total.values[3]);

  // Quantiles ordered, and joint sample paths of every series.
  request.horizon_hours.reset();
  request.sample_paths = 20;
  absl::StatusOr<Prediction> full = predictor.Predict(request);
  ASSERT_TRUE(full.ok());
  ASSERT_EQ(full->total.quantiles.size(), 5u);
  for (int j = 0; j < 48; ++j) {
    for (int i = 1; i < 5; ++i) {
      EXPECT_LE(full->total.quantiles[i - 1].values[j], full->total.quantiles[i].values[j]);
    }
  }
  EXPECT_EQ(full->sample_paths, 20);
  EXPECT_EQ(full->paths_hours, 48 - 3) << "the paths were drawn three hours ago";
  EXPECT_EQ(full->total.sample_paths.size(), 20u * 45);
  ASSERT_FALSE(full->regions.empty());
  EXPECT_EQ(full->regions[0].sample_paths.size(), 20u * 45);
  request.sample_paths = 0;

  // Backtest: the candidates of every series.
  BacktestQuery backtest;
  backtest.resource_id = kBusy;
  absl::StatusOr<BacktestReport> accuracy = predictor.Backtest(backtest);
  ASSERT_TRUE(accuracy.ok());
  ASSERT_EQ(accuracy->series.size(), 3u);
  EXPECT_EQ(accuracy->series[2].origin_region, "total");
  EXPECT_EQ(accuracy->series[0].candidates.size(), 4u);
  backtest.resource_id = kSilent;
  EXPECT_EQ(predictor.Backtest(backtest).status().code(), absl::StatusCode::kFailedPrecondition);
  backtest.resource_id = kBusy;
  backtest.realized_days = 0;
  EXPECT_EQ(predictor.Backtest(backtest).status().code(), absl::StatusCode::kInvalidArgument);

  // Where demand is best served: eu dominates (40 an hour against us's 5), so Frankfurt.
  store::LocationRepository locations(pool_.get());
  for (const auto& [name, lat, lon] :
       {std::tuple<std::string, double, double>{"eu", 50.1, 8.7}, {"us", 38.9, -77.4}}) {
    store::RegionRecord region;
    region.name = name;
    region.latitude = lat;
    region.longitude = lon;
    region.updated_at = kNow;
    ASSERT_TRUE(locations.UpsertRegion(region).ok());
    store::LocationRecord location;
    location.name = name == "eu" ? "fra-1" : "iad-1";
    location.region = name;
    location.latitude = lat;
    location.longitude = lon;
    location.agent_endpoint = "127.0.0.1:1";
    location.capacity_millicores = 1000;
    location.capacity_memory_mib = 1024;
    location.updated_at = kNow;
    ASSERT_TRUE(locations.UpsertLocation(location).ok());
  }
  store::ReservationRepository reservations(pool_.get());
  Predictor with_locations(forecaster_.get(), forecasts_.get(), telemetry_.get(), &clock_, options,
                           nullptr, &locations, &reservations);
  request.best_location = true;
  absl::StatusOr<Prediction> where = with_locations.Predict(request);
  ASSERT_TRUE(where.ok());
  EXPECT_EQ(where->best_location_now, "fra-1");
  ASSERT_EQ(where->best_location.size(), 2u);
  EXPECT_EQ(where->best_location[0].location, "fra-1");
  ASSERT_EQ(where->best_location[0].probability.size(), 48u);
  for (int k = 0; k < 48; ++k) {
    EXPECT_NEAR(where->best_location[0].probability[k] + where->best_location[1].probability[k], 1,
                1e-9);
  }
  EXPECT_GT(where->best_location[0].probability[0], 0.9);
  request.best_location = false;

  // Bad input and faults.
  for (double q : {0.0, 1.0, -0.5, 2.0}) {
    PredictQuery bad = request;
    bad.quantiles = {0.5, q};
    const absl::Status s = predictor.Predict(bad).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << q;
    EXPECT_TRUE(absl::StrContains(s.message(), "quantiles")) << s;
  }
  {
    // Each level costs series x hours values in the answer: their number is bounded.
    PredictQuery many = request;
    many.quantiles.clear();
    for (int i = 1; i <= 33; ++i) many.quantiles.push_back(i / 34.0);
    const absl::Status s = predictor.Predict(many).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(s.message(), "at most 32")) << s;
    many.quantiles.pop_back();
    EXPECT_TRUE(predictor.Predict(many).ok()) << "32 levels are allowed";
  }
  for (int paths : {-1, 201}) {
    PredictQuery bad = request;
    bad.sample_paths = paths;
    const absl::Status s = predictor.Predict(bad).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << paths;
    EXPECT_TRUE(absl::StrContains(s.message(), "sample_paths")) << s;
  }
  for (int horizon : {0, -1, 49}) {
    request.horizon_hours = horizon;
    const absl::Status s = predictor.Predict(request).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << horizon;
    EXPECT_TRUE(absl::StrContains(s.message(), "horizon_hours")) << s;
  }
  request.horizon_hours.reset();
  request.resource_id = kSilent;
  const absl::Status silent = predictor.Predict(request).status();
  EXPECT_EQ(silent.code(), absl::StatusCode::kFailedPrecondition) << silent;
  EXPECT_TRUE(absl::StrContains(silent.message(), "no requests")) << silent;
  request.resource_id = "bbbbbbbb-0000-4000-8000-000000000009";
  EXPECT_EQ(predictor.Predict(request).status().code(), absl::StatusCode::kNotFound);
  request.resource_id = "";
  EXPECT_EQ(predictor.Predict(request).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ForecastRefresherTest, ComputeHonoursDeadlineAndCancellation) {
  auto past = forecaster_->Compute(kBusy, {}, absl::Now() - absl::Seconds(1));
  EXPECT_EQ(past.status().code(), absl::StatusCode::kDeadlineExceeded);
  std::atomic<bool> cancelled{true};
  auto stopped = forecaster_->Compute(kBusy, {}, absl::InfiniteFuture(), &cancelled);
  EXPECT_EQ(stopped.status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace shadowplane::forecast
