// The forecasts table against a real PostgreSQL (label pg).
#include "store/forecast_repository.h"

#include "gtest/gtest.h"
#include "support/test_database.h"

namespace shadowplane::store {
namespace {

constexpr char kResource[] = "aaaaaaaa-0000-4000-8000-000000000001";

using ForecastRepositoryTest = testing::MigratedDatabaseTest;

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

TEST_F(ForecastRepositoryTest, AppendsReadsTheNewestPerRegionAndPrunes) {
  ForecastRepository repository(pool_.get());
  const absl::Time t0 = absl::FromUnixSeconds(1796558400);
  std::vector<ForecastRecord> first = {Record("eu-central", t0, 10), Record("total", t0, 30)};
  ASSERT_TRUE(repository.Append(first).ok());
  EXPECT_GT(first[0].id, 0);
  std::vector<ForecastRecord> second = {Record("eu-central", t0 + absl::Hours(1), 11)};
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
  EXPECT_EQ(*pruned, 2);
  EXPECT_EQ(repository.Latest(kResource)->size(), 1u);
}

}  // namespace
}  // namespace shadowplane::store
