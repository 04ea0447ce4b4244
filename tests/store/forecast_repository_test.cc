// The forecasts table against a real PostgreSQL (label pg).
#include "store/forecast_repository.h"

#include <pqxx/pqxx>

#include "gtest/gtest.h"
#include "store/location_repository.h"
#include "store/sql_time.h"
#include "support/test_database.h"

namespace shadowplane::store {
namespace {

constexpr char kResource[] = "aaaaaaaa-0000-4000-8000-000000000001";

using ForecastRepositoryTest = testing::MigratedDatabaseTest;

// kResource's paths computed at and starting from `t0`.
ForecastPathsRecord Paths(absl::Time t0, int paths, int horizon, std::vector<std::string> regions,
                          std::vector<std::vector<float>> values) {
  ForecastPathsRecord p;
  p.resource_id = kResource;
  p.computed_at = t0;
  p.first_hour = t0;
  p.paths = paths;
  p.horizon = horizon;
  p.regions = std::move(regions);
  p.values = std::move(values);
  return p;
}

ForecastRecord Record(const std::string& region, absl::Time computed, double base) {
  ForecastRecord r;
  r.resource_id = kResource;
  r.origin_region = region;
  r.model = "hw_add_damped_24";
  r.parameters = {0.25, 0.01, 0.1, 0.9};
  r.first_hour = absl::FromUnixSeconds(1796558400);
  r.values = {base, base + 0.5, base + 1e-9, 1e12};
  r.history_hours = 504;
  r.computed_at = computed;
  return r;
}

TEST_F(ForecastRepositoryTest, AppendsReadsTheNewestComputationAndPrunes) {
  ForecastRepository repository(pool_.get());
  const absl::Time t0 = absl::FromUnixSeconds(1796558400);
  std::vector<ForecastRecord> first = {Record("eu-central", t0, 10), Record("us-east", t0, 20),
                                       Record("total", t0, 30)};
  ASSERT_TRUE(repository.Append(first).ok());
  EXPECT_GT(first[0].id, 0);
  // us-east had no demand in the newest computation's history: it is not part of it.
  std::vector<ForecastRecord> second = {Record("eu-central", t0 + absl::Hours(1), 11),
                                        Record("total", t0 + absl::Hours(1), 11)};
  second[0].model = "seasonal_naive_24";
  second[0].fallback_reason = "hw_add_damped_24: the fit diverged";
  ASSERT_TRUE(repository.Append(second).ok());

  auto latest = repository.Latest(kResource);
  ASSERT_TRUE(latest.ok()) << latest.status();
  ASSERT_EQ(latest->size(), 2u);
  const ForecastRecord& eu = (*latest)[0];
  EXPECT_EQ(eu.origin_region, "eu-central");
  EXPECT_EQ(eu.model, "seasonal_naive_24") << "the newest";
  EXPECT_EQ(eu.fallback_reason, "hw_add_damped_24: the fit diverged");
  EXPECT_EQ(eu.values, (std::vector<double>{11, 11.5, 11 + 1e-9, 1e12})) << "exact round trip";
  EXPECT_EQ(eu.parameters, (std::vector<double>{0.25, 0.01, 0.1, 0.9}));
  EXPECT_EQ(eu.first_hour, t0);
  EXPECT_EQ(eu.computed_at, t0 + absl::Hours(1));
  EXPECT_EQ(eu.history_hours, 504);
  EXPECT_EQ((*latest)[1].origin_region, "total");
  EXPECT_TRUE(repository.Latest("not-a-uuid")->empty());
  EXPECT_TRUE(repository.Latest("bbbbbbbb-0000-4000-8000-000000000002")->empty());

  auto pruned = repository.PruneBefore(t0 + absl::Minutes(30));
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 3);
  EXPECT_EQ(repository.Latest(kResource)->size(), 2u);
}

TEST_F(ForecastRepositoryTest, DueAreResourcesWithRecentDemandAndNoFreshForecast) {
  ForecastRepository repository(pool_.get());
  const absl::Time now = absl::FromUnixSeconds(1796558400);
  const std::string stale = "aaaaaaaa-0000-4000-8000-00000000000a",
                    fresh = "aaaaaaaa-0000-4000-8000-00000000000b",
                    never = "aaaaaaaa-0000-4000-8000-00000000000c",
                    quiet = "aaaaaaaa-0000-4000-8000-00000000000d",
                    deleted = "aaaaaaaa-0000-4000-8000-00000000000e";
  ASSERT_TRUE(pool_
                  ->Run("seeding",
                        [&](pqxx::connection& conn) -> absl::Status {
                          pqxx::work txn(conn);
                          for (const std::string& id : {stale, fresh, never, quiet, deleted}) {
                            txn.exec_params(
                                "INSERT INTO resources (id, name, created_at, deleted_at) VALUES "
                                "($1::uuid, 'r', now(), CASE WHEN $2 THEN now() END)",
                                id, id == deleted);
                            // quiet's demand is older than the history looked at.
                            txn.exec_params(
                                "INSERT INTO demand_hourly (resource_id, origin_region, hour, "
                                "requests, clients_hll) VALUES ($1::uuid, 'eu', $2::timestamptz, "
                                "5, '')",
                                id, ToSqlTime(now - absl::Hours(id == quiet ? 24 * 30 : 3)));
                          }
                          txn.commit();
                          return absl::OkStatus();
                        })
                  .ok());
  auto record = [&](const std::string& id, absl::Time first_hour) {
    ForecastRecord r = Record("total", now, 1);
    r.resource_id = id;
    r.first_hour = first_hour;
    return r;
  };
  std::vector<ForecastRecord> records = {record(stale, now - absl::Hours(7)),
                                         record(fresh, now - absl::Hours(2))};
  ASSERT_TRUE(repository.Append(records).ok());
  auto due = repository.Due(now - absl::Hours(24 * 14), now - absl::Hours(6), 10);
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_EQ(*due, (std::vector<std::string>{never, stale})) << "never forecast first";
  EXPECT_EQ(repository.Due(now - absl::Hours(24 * 14), now - absl::Hours(6), 1)->size(), 1u);
}

}  // namespace
}  // namespace shadowplane::store

namespace shadowplane::store {
namespace {

TEST_F(ForecastRepositoryTest, SamplePathsRoundTripWithinTheirCodingAndOnlyNewerReplace) {
  ForecastRepository repository(pool_.get());
  const absl::Time t0 = absl::FromUnixSeconds(1796558400);
  ForecastPathsRecord paths =
      Paths(t0, 3, 2, {"eu", "total"}, {{0, 1, 2.5f, 1e6f, 7, 0}, {10, 20, 30, 40, 50, 60}});
  ASSERT_TRUE(repository.UpsertPaths(paths).ok());
  auto back = repository.LatestPaths(kResource);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->regions, paths.regions);
  EXPECT_EQ(back->paths, 3);
  EXPECT_EQ(back->horizon, 2);
  EXPECT_EQ(back->computed_at, t0);
  for (size_t r = 0; r < 2; ++r) {
    for (size_t i = 0; i < 6; ++i) {
      // Relative to the largest value of the same hour (1e6 for eu's second hour).
      const float max = r == 0 && i % 2 == 1 ? 1e6f : (r == 0 ? 7.0f : 60.0f);
      EXPECT_NEAR(back->values[r][i], paths.values[r][i], max / 65535.0) << r << " " << i;
    }
  }
  ForecastPathsRecord older = paths;
  older.computed_at = t0 - absl::Hours(1);
  older.paths = 1;
  older.values = {{1, 1}, {1, 1}};
  ASSERT_TRUE(repository.UpsertPaths(older).ok());
  EXPECT_EQ(repository.LatestPaths(kResource)->paths, 3) << "an older computation never wins";
  EXPECT_EQ(repository.LatestPaths("bbbbbbbb-0000-4000-8000-000000000002").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace shadowplane::store

namespace shadowplane::store {
namespace {

PathSumsRecord Sums(absl::Time computed, absl::Time start, std::vector<double> sums) {
  PathSumsRecord s;
  s.resource_id = kResource;
  s.computed_at = computed;
  s.start_hour = start;
  s.window_hours = 24;
  s.paths = 2;
  s.regions = {"eu", "us"};
  s.sums = std::move(sums);  // path after path
  s.expected = {100, 2000};
  s.first_hour_requests = {4, 80};
  s.bytes_per_request = {2048, 0};
  return s;
}

TEST_F(ForecastRepositoryTest, WindowSumsAreReadByStartForManyResourcesAndGoWithTheirForecast) {
  ForecastRepository repository(pool_.get());
  const absl::Time t0 = absl::FromUnixSeconds(1796558400);
  ForecastPathsRecord paths = Paths(t0, 2, 1, {"eu", "us"}, {{1, 2}, {3, 4}});
  const std::vector<PathSumsRecord> sums = {Sums(t0, t0, {90, 1e6, 110, 3000}),
                                            Sums(t0, t0 + absl::Hours(1), {1, 2, 3, 4})};
  ASSERT_TRUE(repository.UpsertPaths(paths, sums).ok());
  const std::string other = "bbbbbbbb-0000-4000-8000-000000000002";
  auto read = repository.PathSumsAt({kResource, other, "not-a-uuid"}, t0, 24);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 1u) << "only the resource with sums, the bad id skipped";
  const PathSumsRecord& back = read->at(kResource);
  EXPECT_EQ(back.computed_at, t0);
  EXPECT_EQ(back.paths, 2);
  EXPECT_EQ(back.regions, (std::vector<std::string>{"eu", "us"}));
  EXPECT_EQ(back.expected, (std::vector<double>{100, 2000}));
  EXPECT_EQ(back.first_hour_requests, (std::vector<double>{4, 80}));
  EXPECT_EQ(back.bytes_per_request, (std::vector<double>{2048, 0}));
  ASSERT_EQ(back.sums.size(), 4u);
  // Each within 1/65535 of its region's largest sum (110 for eu, 1e6 for us).
  const std::vector<double> want = {90, 1e6, 110, 3000};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(back.sums[i], want[i], (i % 2 == 0 ? 110 : 1e6) / 65535.0) << i;
  }
  EXPECT_EQ(repository.PathSumsAt({kResource}, t0 + absl::Hours(1), 24)->at(kResource).sums[3], 4);
  EXPECT_TRUE(repository.PathSumsAt({kResource}, t0 + absl::Hours(2), 24)->empty());
  EXPECT_TRUE(repository.PathSumsAt({kResource}, t0, 12)->empty()) << "another window";
  EXPECT_TRUE(repository.PathSumsAt({}, t0, 24)->empty());

  // Sums that do not match the paths are refused whole.
  PathSumsRecord torn = Sums(t0, t0, {1, 2, 3});
  EXPECT_EQ(repository.UpsertPaths(paths, {torn}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(repository.PathSumsAt({kResource}, t0, 24)->size(), 1u) << "nothing lost";
  // An older computation's sums never replace newer ones.
  ForecastPathsRecord older = paths;
  older.computed_at = t0 - absl::Hours(1);
  ASSERT_TRUE(repository.UpsertPaths(older, {Sums(older.computed_at, t0, {0, 0, 0, 0})}).ok());
  EXPECT_EQ(repository.PathSumsAt({kResource}, t0, 24)->at(kResource).computed_at, t0);
  // A new computation's forecasts retire the sums of the one before, before its own are stored.
  std::vector<ForecastRecord> next = {Record("eu", t0 + absl::Hours(1), 1)};
  ASSERT_TRUE(repository.Append(next).ok());
  EXPECT_TRUE(repository.PathSumsAt({kResource}, t0, 24)->empty());
}

}  // namespace
}  // namespace shadowplane::store
