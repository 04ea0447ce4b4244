// PlanService over a real PostgreSQL (label pg): a reservation placed by the reservation manager
// on fake compute, stored forecasts with joint sample paths written as the refresher would, and
// the dry run's answer: costs, gates and the decision; no forecast, a stale one, a running
// migration; bad input named; nothing stored.
#include "planner/plan_service.h"

#include "common/clock.h"
#include "common/status_macros.h"
#include "forecast/forecaster.h"
#include "forecast/predictor.h"
#include "gtest/gtest.h"
#include "migration/migration_manager.h"
#include "reservation/reservation_manager.h"
#include "store/forecast_repository.h"
#include "store/telemetry_repository.h"
#include "support/fake_providers.h"
#include "support/test_database.h"

namespace shadowplane::planner {
namespace {

constexpr int kHours = 48;
constexpr int kPaths = 50;

class PlanServiceTest : public testing::MigratedDatabaseTest {
 protected:
  void SetUp() override {
    MigratedDatabaseTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(SeedFrankfurtAndVirginia().ok());
    reservations_ = std::make_unique<store::ReservationRepository>(pool_.get());
    locations_ = std::make_unique<store::LocationRepository>(pool_.get());
    migrations_ = std::make_unique<store::MigrationRepository>(pool_.get());
    forecasts_ = std::make_unique<store::ForecastRepository>(pool_.get());
    telemetry_ = std::make_unique<store::TelemetryRepository>(pool_.get());
    placements_ = std::make_unique<reservation::ReservationManager>(
        reservations_.get(), locations_.get(), &compute_, &clock_,
        reservation::ReservationOptions(), nullptr);
    forecaster_ = std::make_unique<forecast::Forecaster>(telemetry_.get(), &clock_,
                                                         forecast::ForecasterOptions(), nullptr);
    predictor_ = std::make_unique<forecast::Predictor>(
        forecaster_.get(), forecasts_.get(), telemetry_.get(), &clock_,
        forecast::PredictorOptions(), nullptr, locations_.get(), reservations_.get());
    PlanService::Sources sources;
    sources.reservations = reservations_.get();
    sources.locations = locations_.get();
    sources.migrations = migrations_.get();
    sources.predictor = predictor_.get();
    sources.rtt = &rtt_;
    sources.expected_freeze_seconds = []() -> absl::StatusOr<double> { return 0.1; };
    sources.clock = &clock_;
    PlanServiceOptions options;
    options.sample_paths = kPaths;
    options.forecast_horizon_hours = kHours;
    plans_ = std::make_unique<PlanService>(sources, options);
    reservation_ = Reserve("web-1");
  }

  store::ReservationRecord Reserve(const std::string& request_id) {
    reservation::ReserveSpec spec;
    spec.request_id = request_id;
    spec.name = request_id;
    spec.capacity = {500, 256, CapacityType::kOnDemand};
    spec.client_regions = {{"eu", 1.0}};
    auto r = placements_->Reserve(spec);
    EXPECT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->primary.location, "fra-1");
    EXPECT_EQ(r->state, "active");
    return *r;
  }

  // A stored forecast, computed `age` ago, of `eu` and `us` requests an hour, with joint sample
  // paths scattered ±10% around it.
  void StoreForecast(const std::string& resource_id, double eu, double us,
                     absl::Duration age = absl::ZeroDuration()) {
    const absl::Time computed = clock_.Now() - age;
    const absl::Time first = absl::FromUnixSeconds(absl::ToUnixSeconds(computed) / 3600 * 3600);
    std::vector<store::ForecastRecord> records;
    for (const auto& [region, rate] :
         std::vector<std::pair<std::string, double>>{{"eu", eu}, {"us", us}, {"total", eu + us}}) {
      store::ForecastRecord r;
      r.resource_id = resource_id;
      r.origin_region = region;
      r.model = "seasonal_naive";
      r.first_hour = first;
      r.values.assign(kHours, rate);
      r.computed_at = computed;
      records.push_back(r);
    }
    ASSERT_TRUE(forecasts_->Append(records).ok());
    store::ForecastPathsRecord paths;
    paths.resource_id = resource_id;
    paths.computed_at = computed;
    paths.first_hour = first;
    paths.paths = kPaths;
    paths.horizon = kHours;
    paths.regions = {"eu", "us"};
    for (double rate : {eu, us}) {
      std::vector<float> v;
      for (int p = 0; p < kPaths; ++p) {
        const double scale = 0.9 + 0.2 * p / (kPaths - 1);
        for (int h = 0; h < kHours; ++h) v.push_back(static_cast<float>(rate * scale));
      }
      paths.values.push_back(v);
    }
    ASSERT_TRUE(forecasts_->UpsertPaths(paths).ok());
  }

  absl::StatusOr<PlanDecision> PlanOne(PlanQuery query = {}) {
    if (query.resource_id.empty()) query.resource_id = reservation_.resource_id;
    ASSIGN_OR_RETURN(PlanPage page, plans_->Plan(query));
    if (page.decisions.size() != 1) return absl::InternalError("not one decision");
    return page.decisions[0];
  }

  static const GateCheck* Gate(const PlanDecision& d, PlanGate gate) {
    for (const GateCheck& g : d.gates) {
      if (g.gate == gate) return &g;
    }
    return nullptr;
  }

  FakeClock clock_{absl::FromUnixSeconds(1796558400)};
  testing::FakeComputeProvider compute_;
  geo::RttModel rtt_;
  std::unique_ptr<store::ReservationRepository> reservations_;
  std::unique_ptr<store::LocationRepository> locations_;
  std::unique_ptr<store::MigrationRepository> migrations_;
  std::unique_ptr<store::ForecastRepository> forecasts_;
  std::unique_ptr<store::TelemetryRepository> telemetry_;
  std::unique_ptr<reservation::ReservationManager> placements_;
  std::unique_ptr<forecast::Forecaster> forecaster_;
  std::unique_ptr<forecast::Predictor> predictor_;
  std::unique_ptr<PlanService> plans_;
  store::ReservationRecord reservation_;
};

TEST_F(PlanServiceTest, DemandFromTheOtherSideIsARecommendationWithItsCostsAndGates) {
  StoreForecast(reservation_.resource_id, 100, 20000);
  absl::StatusOr<PlanDecision> d = PlanOne();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->outcome, PlanOutcome::kRecommend) << d->reason;
  EXPECT_EQ(d->from_location, "fra-1");
  EXPECT_EQ(d->to_location, "iad-1");
  EXPECT_DOUBLE_EQ(d->confidence, 1.0);
  ASSERT_TRUE(d->blocking.has_value());
  EXPECT_EQ(*d->blocking, PlanGate::kMode);
  ASSERT_EQ(d->candidates.size(), 2u);
  const CandidateExplanation& here = d->candidates[0];
  const CandidateExplanation& there = d->candidates[1];
  // 24 h (the default horizon) of 0.5 vCPU at $0.04 and 0.25 GiB at $0.005 (the seeded prices).
  EXPECT_NEAR(here.terms.compute, 24 * (0.5 * 0.04 + 0.25 * 0.005), 1e-9);
  EXPECT_GT(here.terms.latency, there.terms.latency);
  EXPECT_EQ(there.confidence_source, "sample_paths");
  EXPECT_GT(there.expected_saving, 0);
  EXPECT_LE(there.saving.p10, there.saving.p90);
  for (const GateCheck& g : d->gates) {
    if (g.gate != PlanGate::kMode) {
      EXPECT_TRUE(g.passed) << PlanGateName(g.gate) << g.detail;
    }
  }
  // A dry run with the threshold above what a path can give: the threshold blocks.
  PlanQuery strict;
  strict.migration_threshold = 1.0;
  strict.horizon = absl::Hours(1);
  d = PlanOne(strict);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->horizon, absl::Hours(1));
}

TEST_F(PlanServiceTest, NoStoredForecastOrAStaleOneKeepsTheResourceAndSaysWhy) {
  absl::StatusOr<PlanDecision> d = PlanOne();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->outcome, PlanOutcome::kStay);
  ASSERT_NE(Gate(*d, PlanGate::kNoForecast), nullptr);
  EXPECT_FALSE(Gate(*d, PlanGate::kNoForecast)->passed);
  EXPECT_NE(Gate(*d, PlanGate::kNoForecast)->detail.find("no stored forecast"), std::string::npos)
      << Gate(*d, PlanGate::kNoForecast)->detail;

  StoreForecast(reservation_.resource_id, 100, 20000, absl::Hours(3));
  d = PlanOne();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->outcome, PlanOutcome::kBlocked) << d->reason;
  EXPECT_EQ(*d->blocking, PlanGate::kStaleForecast);
}

TEST_F(PlanServiceTest, ARunningMigrationBlocksAndEveryActiveReservationIsPlannedByPage) {
  StoreForecast(reservation_.resource_id, 100, 20000);
  migration::MigrationManager manager(migrations_.get(), reservations_.get(), locations_.get(),
                                      &clock_, nullptr);
  migration::MigrateSpec spec;
  spec.request_id = "move-1";
  spec.reservation_id = reservation_.id;
  spec.target_location = "iad-1";
  spec.reason = "test";
  ASSERT_TRUE(manager.Migrate(spec).ok());
  absl::StatusOr<PlanDecision> d = PlanOne();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->outcome, PlanOutcome::kBlocked);
  EXPECT_EQ(*d->blocking, PlanGate::kMigrationInProgress);

  const store::ReservationRecord second = Reserve("web-2");
  PlanQuery all;
  all.page_size = 1;
  absl::StatusOr<PlanPage> page = plans_->Plan(all);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->decisions.size(), 1u);
  ASSERT_FALSE(page->next_page_token.empty());
  all.page_token = page->next_page_token;
  absl::StatusOr<PlanPage> rest = plans_->Plan(all);
  ASSERT_TRUE(rest.ok()) << rest.status();
  ASSERT_EQ(rest->decisions.size(), 1u);
  EXPECT_NE(rest->decisions[0].resource_id, page->decisions[0].resource_id);
  all.page_token = rest->next_page_token;
  if (!all.page_token.empty()) {
    EXPECT_TRUE(plans_->Plan(all)->decisions.empty());
  }
}

TEST_F(PlanServiceTest, BadInputIsRefusedNamingTheFieldAndNothingIsStored) {
  StoreForecast(reservation_.resource_id, 100, 20000);
  struct Case {
    PlanQuery query;
    absl::StatusCode code;
    std::string names;
  };
  std::vector<Case> cases;
  auto add = [&](std::function<void(PlanQuery&)> bad, absl::StatusCode code, std::string names) {
    PlanQuery q;
    q.resource_id = reservation_.resource_id;
    bad(q);
    cases.push_back({q, code, names});
  };
  const auto invalid = absl::StatusCode::kInvalidArgument;
  add([](PlanQuery& q) { q.migration_threshold = 1.5; }, invalid, "migration_threshold");
  add([](PlanQuery& q) { q.migration_threshold = std::nan(""); }, invalid, "migration_threshold");
  add([](PlanQuery& q) { q.horizon = absl::Minutes(90); }, invalid, "horizon");
  add([](PlanQuery& q) { q.horizon = absl::ZeroDuration(); }, invalid, "horizon");
  add([](PlanQuery& q) { q.horizon = absl::Hours(kHours + 1); }, invalid, "horizon");
  add([](PlanQuery& q) { q.page_size = -1; }, invalid, "page_size");
  add([](PlanQuery& q) { q.page_size = 100000; }, invalid, "page_size");
  add(
      [](PlanQuery& q) {
        q.resource_id.clear();
        q.page_token = "x' OR 1=1";
      },
      invalid, "page_token");
  add([](PlanQuery& q) { q.resource_id = "00000000-0000-4000-8000-000000000000"; },
      absl::StatusCode::kNotFound, "");
  for (const Case& c : cases) {
    absl::StatusOr<PlanPage> page = plans_->Plan(c.query);
    ASSERT_FALSE(page.ok()) << c.names;
    EXPECT_EQ(page.status().code(), c.code) << page.status();
    EXPECT_NE(page.status().message().find(c.names), std::string::npos) << page.status();
  }
  // A dry run stores nothing: no migration, and the forecast as it was.
  store::MigrationFilter filter;
  EXPECT_TRUE(migrations_->List(filter)->empty());
  EXPECT_EQ(forecasts_->Latest(reservation_.resource_id)->size(), 3u);
}

}  // namespace
}  // namespace shadowplane::planner
