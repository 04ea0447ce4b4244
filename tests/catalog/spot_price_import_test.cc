// AWS's spot price history as location prices: the locations file's mapping, the conversion of
// a spot price into per-vCPU and per-GiB prices, and every bad entry named by its index.
#include "catalog/spot_price_import.h"

#include <unistd.h>

#include <cmath>
#include <fstream>

#include "absl/strings/match.h"
#include "catalog/catalog.h"
#include "gtest/gtest.h"

namespace shadowplane::catalog {
namespace {

SpotPriceMapping Mapping() {
  SpotPriceMapping m;
  m.zones = {{"eu-central-1a", "fra-1"}, {"eu-central-1b", "fra-1"}, {"us-east-1a", "iad-1"}};
  m.instance_types = {{"m5.large", {2, 8, 0.096}}, {"m5.xlarge", {4, 16, 0.192}}};
  return m;
}

std::vector<store::LocationRecord> Locations() {
  store::LocationRecord fra;
  fra.name = "fra-1";
  fra.on_demand_price_per_vcpu_hour = 0.04;
  fra.on_demand_price_per_gib_hour = 0.005;
  store::LocationRecord iad = fra;
  iad.name = "iad-1";
  iad.on_demand_price_per_vcpu_hour = 0.036;
  return {fra, iad};
}

TEST(SpotPriceImportTest, ASpotPriceBecomesTheLocationsOnDemandPricesTimesItsDiscount) {
  const std::vector<AwsSpotPriceEntry> entries = {
      {"eu-central-1a", "m5.large", "0.028800", "2026-12-01T10:00:00+00:00"},
      // The same location and time from another zone and type: averaged, weighted by vCPU.
      {"eu-central-1b", "m5.xlarge", "0.048000", "2026-12-01T10:00:00.000Z"},
      {"us-east-1a", "m5.large", "0.048", "2026-12-01T11:00:00Z"}};
  auto prices = PricesFromAwsHistory(entries, Mapping(), Locations(), "aws_spot_prices");
  ASSERT_TRUE(prices.ok()) << prices.status();
  ASSERT_EQ(prices->size(), 2u);
  const store::PriceRecord& fra = (*prices)[0];
  EXPECT_EQ(fra.location, "fra-1");
  EXPECT_EQ(fra.observed_at, absl::FromUnixSeconds(1796119200));
  // Ratios 0.3 (2 vCPU) and 0.25 (4 vCPU): (0.6 + 1.0) / 6.
  const double ratio = (0.3 * 2 + 0.25 * 4) / 6;
  EXPECT_NEAR(*fra.spot_price_per_vcpu_hour, 0.04 * ratio, 1e-12);
  EXPECT_NEAR(*fra.spot_price_per_gib_hour, 0.005 * ratio, 1e-12);
  EXPECT_EQ(fra.on_demand_price_per_vcpu_hour, 0.04);
  EXPECT_FALSE(fra.spot_availability.has_value()) << "AWS's history carries no availability";
  EXPECT_EQ(fra.source, "aws-spot-price-history");
  EXPECT_NEAR(*(*prices)[1].spot_price_per_vcpu_hour, 0.036 * 0.5, 1e-12);
}

TEST(SpotPriceImportTest, TheFirstBadEntryIsNamedAndNothingIsReturned) {
  const AwsSpotPriceEntry good = {"eu-central-1a", "m5.large", "0.03", "2026-12-01T10:00:00Z"};
  struct Case {
    AwsSpotPriceEntry bad;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {{"mars-1a", "m5.large", "0.03", "2026-12-01T10:00:00Z"}, "availability zone \"mars-1a\""},
      {{"eu-central-1a", "z9.huge", "0.03", "2026-12-01T10:00:00Z"}, "instance type \"z9.huge\""},
      {{"eu-central-1a", "m5.large", "-0.03", "2026-12-01T10:00:00Z"}, "SpotPrice \"-0.03\""},
      {{"eu-central-1a", "m5.large", "nan", "2026-12-01T10:00:00Z"}, "SpotPrice \"nan\""},
      {{"eu-central-1a", "m5.large", "inf", "2026-12-01T10:00:00Z"}, "SpotPrice \"inf\""},
      {{"eu-central-1a", "m5.large", "cheap", "2026-12-01T10:00:00Z"}, "SpotPrice \"cheap\""},
      {{"eu-central-1a", "m5.large", "0.03", "yesterday"}, "Timestamp \"yesterday\""},
  };
  for (const Case& c : cases) {
    auto prices =
        PricesFromAwsHistory({good, good, c.bad, good}, Mapping(), Locations(), "aws_spot_prices");
    ASSERT_EQ(prices.status().code(), absl::StatusCode::kInvalidArgument) << c.expect;
    EXPECT_TRUE(absl::StrContains(prices.status().message(), "aws_spot_prices[2]: "))
        << prices.status();
    EXPECT_TRUE(absl::StrContains(prices.status().message(), c.expect)) << prices.status();
  }
  SpotPriceMapping unknown_location = Mapping();
  unknown_location.zones["eu-west-1a"] = "dub-1";
  auto prices = PricesFromAwsHistory({{"eu-west-1a", "m5.large", "0.03", "2026-12-01T10:00:00Z"}},
                                     unknown_location, Locations(), "aws_spot_prices");
  EXPECT_TRUE(absl::StrContains(prices.status().message(), "dub-1, which is not in the catalog"))
      << prices.status();
  auto future = PricesFromAwsHistory({good}, Mapping(), Locations(), "aws_spot_prices",
                                     absl::FromUnixSeconds(1796119200) - absl::Seconds(1));
  EXPECT_TRUE(absl::StrContains(future.status().message(), "aws_spot_prices[0]: Timestamp"))
      << future.status();
  std::vector<AwsSpotPriceEntry> too_many(kMaxPriceEntries + 1, good);
  EXPECT_EQ(
      PricesFromAwsHistory(too_many, Mapping(), Locations(), "aws_spot_prices").status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(SpotPriceImportTest, PriceReportsAreCheckedFieldByField) {
  store::PriceRecord good;
  good.location = "fra-1";
  good.observed_at = absl::FromUnixSeconds(1796119200);
  good.on_demand_price_per_vcpu_hour = 0.04;
  good.on_demand_price_per_gib_hour = 0.005;
  good.spot_price_per_vcpu_hour = 0.012;
  good.spot_price_per_gib_hour = 0.0015;
  good.spot_availability = 0.9;
  ASSERT_TRUE(ValidatePriceReports({good}, "prices").ok());
  auto refused = [&](std::function<void(store::PriceRecord&)> change, const std::string& expect) {
    store::PriceRecord bad = good;
    change(bad);
    const absl::Status s = ValidatePriceReports({good, bad}, "prices");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << expect;
    EXPECT_TRUE(absl::StrContains(s.message(), expect)) << s;
  };
  refused([](auto& p) { p.location = "Bad Name"; }, "prices[1].location");
  refused([](auto& p) { p.observed_at = absl::UnixEpoch(); }, "prices[1].observed_at");
  refused([](auto& p) { p.on_demand_price_per_vcpu_hour = -1; },
          "prices[1].on_demand_price_per_vcpu_hour");
  refused([](auto& p) { p.on_demand_price_per_gib_hour = std::nan(""); },
          "prices[1].on_demand_price_per_gib_hour");
  refused([](auto& p) { p.spot_price_per_gib_hour.reset(); }, "go together");
  refused([](auto& p) { p.spot_price_per_vcpu_hour = INFINITY; },
          "prices[1].spot_price_per_vcpu_hour");
  refused([](auto& p) { p.spot_availability = 1.5; }, "prices[1].spot_availability");
  refused([](auto& p) { p.spot_availability = std::nan(""); }, "prices[1].spot_availability");
  const absl::Status future =
      ValidatePriceReports({good}, "prices", good.observed_at - absl::Seconds(1));
  EXPECT_TRUE(absl::StrContains(future.message(), "prices[0].observed_at")) << future;
  const absl::Status too_many =
      ValidatePriceReports(std::vector<store::PriceRecord>(kMaxPriceEntries + 1, good), "prices");
  EXPECT_EQ(too_many.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(too_many.message(), "prices: at most 10000")) << too_many;
}

TEST(SpotPriceImportTest, TheLocationsFileCarriesTheMapping) {
  char path[] = "/tmp/spot-mapping-test-XXXXXX";
  close(mkstemp(path));
  std::ofstream(path) << R"(
regions:
  - {name: eu, latitude: 50, longitude: 8}
locations:
  - {name: fra-1, region: eu, latitude: 50.1, longitude: 8.7, agent_endpoint: "127.0.0.1:1",
     on_demand_price_per_vcpu_hour: 0.04, on_demand_price_per_gib_hour: 0.005,
     capacity_millicores: 1000, capacity_memory_mib: 1024}
aws_spot_mapping:
  zones: {eu-central-1a: fra-1}
  instance_types:
    m5.large: {vcpu: 2, memory_gib: 8, on_demand_price_per_hour: 0.096}
)";
  auto file = LoadCatalogFile(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->aws_spot_mapping.zones.at("eu-central-1a"), "fra-1");
  EXPECT_EQ(file->aws_spot_mapping.instance_types.at("m5.large").on_demand_price_per_hour, 0.096);
  std::ofstream(path, std::ios::app) << "    c5.large: {vcpu: 0, memory_gib: 4, "
                                        "on_demand_price_per_hour: 0.085}\n";
  auto bad = LoadCatalogFile(path);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "aws_spot_mapping instance type c5.large"))
      << bad.status();
  unlink(path);
}

}  // namespace
}  // namespace shadowplane::catalog
