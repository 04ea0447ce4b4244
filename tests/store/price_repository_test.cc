// Observed prices against a real PostgreSQL (label pg): all or nothing, a report at the same time
// replaces the stored one, the history a location's latest reaches back to, when spot became
// available again, and the retention.
#include "store/price_repository.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "store/location_repository.h"
#include "support/test_database.h"

namespace shadowplane::store {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1796558400);

PriceRecord At(const std::string& location, absl::Time at, std::optional<double> spot,
               std::optional<double> availability = std::nullopt) {
  PriceRecord p;
  p.location = location;
  p.observed_at = at;
  p.on_demand_price_per_vcpu_hour = 0.04;
  p.on_demand_price_per_gib_hour = 0.005;
  if (spot) {
    p.spot_price_per_vcpu_hour = *spot;
    p.spot_price_per_gib_hour = *spot / 8;
  }
  p.spot_availability = availability;
  p.source = "test";
  return p;
}

class PriceRepositoryTest : public testing::MigratedDatabaseTest {
 protected:
  void SetUp() override {
    MigratedDatabaseTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(SeedFrankfurtAndVirginia().ok());
    prices_ = std::make_unique<PriceRepository>(pool_.get());
  }
  std::unique_ptr<PriceRepository> prices_;
};

TEST_F(PriceRepositoryTest, AnUnknownLocationRefusesTheWholeBatch) {
  const absl::Status s = prices_->Record({At("fra-1", kT0, 0.01), At("nowhere-1", kT0, 0.01)}, kT0);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(s.message(), "prices[1]: location nowhere-1")) << s;
  EXPECT_TRUE(prices_->History("fra-1")->observations.empty()) << "nothing stored";
}

TEST_F(PriceRepositoryTest, HistoryReachesADayBackFromTheLatestAndSaysWhenSpotCameBack) {
  ASSERT_TRUE(prices_
                  ->Record({At("fra-1", kT0, 0.012, 0.9),
                            At("fra-1", kT0 + absl::Hours(10), std::nullopt),  // spot gone
                            At("fra-1", kT0 + absl::Hours(20), 0.011),
                            At("fra-1", kT0 + absl::Hours(30), 0.013),
                            At("iad-1", kT0, 0.01, 0.0)},  // reported unavailable
                           kT0)
                  .ok());
  auto fra = prices_->History("fra-1");
  ASSERT_TRUE(fra.ok()) << fra.status();
  ASSERT_EQ(fra->observations.size(), 3u) << "within 24 h of the latest";
  EXPECT_EQ(fra->observations.front().observed_at, kT0 + absl::Hours(10));
  EXPECT_EQ(fra->observations.back().observed_at, kT0 + absl::Hours(30));
  ASSERT_TRUE(fra->spot_available_since.has_value());
  EXPECT_EQ(*fra->spot_available_since, kT0 + absl::Hours(20));
  auto iad = prices_->History("iad-1");
  ASSERT_TRUE(iad.ok());
  EXPECT_FALSE(iad->spot_available_since.has_value()) << "the latest says spot is unavailable";
  EXPECT_TRUE(prices_->History("sin-1")->observations.empty());

  // Recorded again at the same time: replaced, so an import can run twice.
  ASSERT_TRUE(prices_->Record({At("fra-1", kT0 + absl::Hours(30), 0.02)}, kT0).ok());
  fra = prices_->History("fra-1");
  ASSERT_EQ(fra->observations.size(), 3u);
  EXPECT_EQ(*fra->observations.back().spot_price_per_vcpu_hour, 0.02);

  // The catalog carries every location's history.
  LocationRepository locations(pool_.get());
  auto catalog = locations.LoadAll();
  ASSERT_TRUE(catalog.ok());
  EXPECT_EQ(catalog->prices.size(), 2u);
  EXPECT_EQ(catalog->prices.at("fra-1").observations.size(), 3u);

  ASSERT_TRUE(SeedLocation("sin-1", "us", 1.35, 103.8).ok());
  ASSERT_TRUE(prices_->Record({At("sin-1", kT0, 0.01, 0.9)}, kT0).ok());
  EXPECT_FALSE(prices_->History("sin-1")->spot_available_since.has_value())
      << "never reported gone: spot has been there all along";
}

TEST_F(PriceRepositoryTest, HistoryOlderThanTheRetentionIsPrunedAsNewComesIn) {
  ASSERT_TRUE(prices_->Record({At("fra-1", kT0, 0.012)}, kT0).ok());
  ASSERT_TRUE(
      prices_->Record({At("fra-1", kT0 + kPriceRetention + absl::Hours(1), 0.01)}, kT0).ok());
  pqxx::connection conn(db_->url());
  pqxx::nontransaction txn(conn);
  EXPECT_EQ(txn.exec("SELECT count(*) FROM location_prices")[0][0].as<int>(), 1);
}

}  // namespace
}  // namespace shadowplane::store
