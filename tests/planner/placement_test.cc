#include "planner/placement.h"

#include "gtest/gtest.h"

namespace shadowplane::planner {
namespace {

// Three regions a continent apart plus a second location near Frankfurt.
class PlacementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    regions_ = {{"eu", {"eu", {50.1, 8.7}}},
                {"us-east", {"us-east", {39.0, -77.5}}},
                {"ap", {"ap", {1.35, 103.8}}}};
    Add("fra", "eu", {50.1, 8.7}, 0.040, 0.005);
    Add("ams", "eu", {52.4, 4.9}, 0.038, 0.005);
    Add("iad", "us-east", {39.0, -77.5}, 0.035, 0.004);
    Add("sin", "ap", {1.35, 103.8}, 0.045, 0.006);
  }
  void Add(const std::string& name, const std::string& region, geo::Coordinates at, double vcpu,
           double gib) {
    LocationFacts l;
    l.name = name;
    l.region = region;
    l.at = at;
    l.on_demand_price_per_vcpu_hour = vcpu;
    l.on_demand_price_per_gib_hour = gib;
    l.capacity_millicores = 16000;
    l.capacity_memory_mib = 65536;
    locations_[name] = l;
  }
  PlacementRequest Request() {
    PlacementRequest r;
    r.capacity = {2000, 4096, CapacityType::kOnDemand};
    r.shadow_capacity_fraction = 0.25;
    return r;
  }
  absl::StatusOr<Placement> PlaceIt(const PlacementRequest& r) {
    return Place(r, locations_, regions_, rtt_, model_);
  }
  std::map<std::string, RegionFacts> regions_;
  std::map<std::string, LocationFacts> locations_;
  geo::RttModel rtt_;
  CostModel model_;
};

TEST_F(PlacementTest, CostUsesPricesPerVcpuHourAndGibHourAndElectricity) {
  LocationFacts& l = locations_["fra"];
  l.electricity_price_per_kwh = 0.30;
  l.power_draw_watts_per_vcpu = 10;
  auto cost = CostAt(l, {2000, 4096, CapacityType::kOnDemand}, {}, regions_, rtt_, model_);
  ASSERT_TRUE(cost.ok());
  EXPECT_DOUBLE_EQ(cost->compute, 2 * 0.040 + 4 * 0.005);
  EXPECT_DOUBLE_EQ(cost->electricity, 2 * 10 / 1000.0 * 0.30);
  EXPECT_DOUBLE_EQ(cost->latency, 0);
  l.spot_price_per_vcpu_hour = 0.012;
  l.spot_price_per_gib_hour = 0.0015;
  l.spot_availability = 0.9;
  auto spot = CostAt(l, {2000, 4096, CapacityType::kSpot}, {}, regions_, rtt_, model_);
  ASSERT_TRUE(spot.ok());
  EXPECT_DOUBLE_EQ(spot->compute, 2 * 0.012 + 4 * 0.0015);
}

TEST_F(PlacementTest, WithoutClientsTheCheapestWinsAndTheShadowIsDiverse) {
  auto p = PlaceIt(Request());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->primary_location, "iad");  // cheapest compute
  EXPECT_NE(locations_[p->shadow_location].region, "us-east");
  EXPECT_GE(p->shadow_distance_km, 500);
  EXPECT_EQ(p->shadow_location, "ams");  // cheapest elsewhere
  EXPECT_EQ(p->shadow_capacity.millicores, 500);
  EXPECT_EQ(p->shadow_capacity.memory_mib, 1024);
  EXPECT_NE(p->explanation.find("primary at iad"), std::string::npos) << p->explanation;
}

TEST_F(PlacementTest, ClientRegionsPullThePrimaryCloser) {
  PlacementRequest r = Request();
  r.client_regions = {{"ap", 1.0}};
  auto p = PlaceIt(r);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->primary_location, "sin");
  EXPECT_LT(p->primary_cost.latency_ms, 5);
  // Mostly European clients: Europe wins although Virginia is cheaper.
  r.client_regions = {{"eu", 0.8}, {"us-east", 0.2}};
  p = PlaceIt(r);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(locations_[p->primary_location].region, "eu");
}

TEST_F(PlacementTest, FlexibleSetsAreRespected) {
  PlacementRequest r = Request();
  r.regions = {"eu", "ap"};
  auto p = PlaceIt(r);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->primary_location, "ams");
  EXPECT_EQ(p->shadow_location, "sin") << "the shadow never leaves the allowed set";
  r.regions = {};
  r.locations = {"fra", "sin"};
  p = PlaceIt(r);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->primary_location, "fra");
  EXPECT_EQ(p->shadow_location, "sin");
}

TEST_F(PlacementTest, NoDiverseShadowLocationIsFailedPrecondition) {
  PlacementRequest r = Request();
  r.regions = {"eu"};  // fra and ams: same region, 360 km apart
  auto p = PlaceIt(r);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(p.status().message().find("other than eu"), std::string::npos) << p.status();
  // A different region but too close also fails the rule.
  regions_["uk"] = {"uk", {51.5, -0.1}};
  Add("lon", "uk", {51.5, -0.1}, 0.05, 0.006);
  r.regions = {"eu", "uk"};
  model_.min_shadow_distance_km = 800;
  EXPECT_EQ(PlaceIt(r).status().code(), absl::StatusCode::kFailedPrecondition);
  model_.min_shadow_distance_km = 300;
  EXPECT_TRUE(PlaceIt(r).ok());
}

TEST_F(PlacementTest, CapacityAndSpotAreConsidered) {
  locations_["iad"].used_millicores = 15000;  // no room for 2000 more
  auto p = PlaceIt(Request());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->primary_location, "ams");
  // Spot where offered, else on-demand with a note.
  PlacementRequest spot = Request();
  spot.capacity.type = CapacityType::kSpot;
  p = PlaceIt(spot);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->primary_capacity.type, CapacityType::kOnDemand);
  EXPECT_NE(p->explanation.find("on-demand: spot there is not offered"), std::string::npos)
      << p->explanation;
  // Spot only 10% cheaper than on-demand is not worth its risk (--spot_min_discount 30%).
  const LocationFacts& sin = locations_["sin"];
  locations_["sin"].spot_price_per_vcpu_hour = sin.on_demand_price_per_vcpu_hour * 0.9;
  locations_["sin"].spot_price_per_gib_hour = sin.on_demand_price_per_gib_hour * 0.9;
  locations_["sin"].spot_availability = 0.99;
  p = PlaceIt(spot);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->primary_capacity.type, CapacityType::kOnDemand) << p->explanation;
  locations_["sin"].spot_price_per_vcpu_hour = 0.01;
  locations_["sin"].spot_price_per_gib_hour = 0.001;
  locations_["sin"].spot_availability = 0.8;
  p = PlaceIt(spot);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->primary_location, "sin");
  EXPECT_EQ(p->primary_capacity.type, CapacityType::kSpot);
  // Spot that came back ten minutes ago is not placed on before the return delay.
  const absl::Time now = absl::FromUnixSeconds(1796558400);
  locations_["sin"].spot_available_since = now - absl::Minutes(10);
  model_.spot_return_after = absl::Hours(1);
  spot.now = now;
  p = PlaceIt(spot);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->primary_capacity.type, CapacityType::kOnDemand) << p->explanation;
  spot.now = now + absl::Minutes(51);
  p = PlaceIt(spot);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->primary_capacity.type, CapacityType::kSpot) << p->explanation;
  PlacementRequest huge = Request();
  huge.capacity.millicores = 100000;
  EXPECT_EQ(PlaceIt(huge).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(PlacementTest, UnknownNamesAreNotFound) {
  PlacementRequest r = Request();
  r.locations = {"atlantis"};
  EXPECT_EQ(PlaceIt(r).status().code(), absl::StatusCode::kNotFound);
  r.locations = {};
  r.regions = {"mars"};
  EXPECT_EQ(PlaceIt(r).status().code(), absl::StatusCode::kNotFound);
  r.regions = {};
  r.client_regions = {{"moon", 1}};
  EXPECT_EQ(PlaceIt(r).status().code(), absl::StatusCode::kNotFound);
}

TEST(GeoTest, GreatCircleAndRtt) {
  // Frankfurt to Virginia: about 6,500 km.
  const double km = geo::GreatCircleKm({50.1, 8.7}, {39.0, -77.5});
  EXPECT_NEAR(km, 6530, 60);
  geo::RttModel rtt(1.0, 1.0);
  EXPECT_NEAR(rtt.RttMs("eu", {50.1, 8.7}, "iad", {39.0, -77.5}), 1 + km / 100, 1e-9);
  rtt.SetMeasured("eu", "iad", 81.0);
  EXPECT_EQ(rtt.RttMs("eu", {50.1, 8.7}, "iad", {39.0, -77.5}), 81.0);
}

}  // namespace
}  // namespace shadowplane::planner
