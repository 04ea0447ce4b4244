// The planner's tests over a real PostgreSQL share this: a reservation placed by the
// reservation manager on fake compute in fra-1 (clients in eu), iad-1 beside it, and stored
// forecasts with joint sample paths written as the refresher would.
#ifndef SHADOWPLANE_TESTS_PLANNER_PLAN_TEST_FIXTURE_H_
#define SHADOWPLANE_TESTS_PLANNER_PLAN_TEST_FIXTURE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status_macros.h"
#include "forecast/forecaster.h"
#include "forecast/path_sums.h"
#include "forecast/predictor.h"
#include "gtest/gtest.h"
#include "planner/plan_service.h"
#include "reservation/reservation_manager.h"
#include "store/decision_repository.h"
#include "store/event_repository.h"
#include "store/forecast_repository.h"
#include "store/telemetry_repository.h"
#include "support/fake_providers.h"
#include "support/test_database.h"
#include "support/write_fencing.h"

namespace shadowplane::planner {

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
    fencing_ = std::make_unique<testing::WriteFencing>(pool_.get(), &compute_, &clock_);
    placements_ = std::make_unique<reservation::ReservationManager>(
        reservations_.get(), locations_.get(), &compute_, &fencing_->writes, &clock_,
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
    decisions_ = std::make_unique<store::DecisionRepository>(pool_.get());
    sources.decisions = decisions_.get();
    sources.telemetry = telemetry_.get();
    events_ = std::make_unique<store::EventRepository>(pool_.get());
    sources.forecasts = forecasts_.get();
    sources.events = events_.get();
    affinity_ = std::make_unique<store::DisruptionRepository>(pool_.get());
    sources.affinity = affinity_.get();
    sync_runs_ = std::make_unique<store::SyncRunRepository>(pool_.get());
    sources.sync_runs = sync_runs_.get();
    sources.rtt = &rtt_;
    sources.expected_freeze_seconds = []() -> absl::StatusOr<double> { return 0.1; };
    sources.clock = &clock_;
    sources_ = sources;
    plan_options_.sample_paths = kPaths;
    plan_options_.forecast_horizon_hours = kHours;
    RebuildPlans();
    reservation_ = Reserve("web-1");
  }

  // After a change to plan_options_.
  void RebuildPlans() { plans_ = std::make_unique<PlanService>(sources_, plan_options_); }

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
  // paths scattered ±10% around it, and their window sums over the default horizon as the
  // refresher stores them (unless `sums` is false, or `sums_of` replaces them).
  void StoreForecast(const std::string& resource_id, double eu, double us,
                     absl::Duration age = absl::ZeroDuration(), bool sums = true,
                     std::function<void(std::vector<store::PathSumsRecord>&)> sums_of = nullptr) {
    StoreProfile(
        resource_id, [eu](absl::Time) { return eu; }, [us](absl::Time) { return us; }, age, sums,
        std::move(sums_of));
  }

  // The same with requests an hour that change with the hour (its start, in domain time).
  using Profile = std::function<double(absl::Time hour)>;
  void StoreProfile(const std::string& resource_id, const Profile& eu, const Profile& us,
                    absl::Duration age = absl::ZeroDuration(), bool sums = true,
                    std::function<void(std::vector<store::PathSumsRecord>&)> sums_of = nullptr) {
    const absl::Time computed = clock_.Now() - age;
    const absl::Time first = absl::FromUnixSeconds(absl::ToUnixSeconds(computed) / 3600 * 3600);
    auto values = [&](const Profile& f) {
      std::vector<double> v;
      for (int h = 0; h < kHours; ++h) v.push_back(f(first + absl::Hours(h)));
      return v;
    };
    const std::vector<double> eu_values = values(eu);
    const std::vector<double> us_values = values(us);
    std::vector<double> total_values;
    for (int h = 0; h < kHours; ++h) total_values.push_back(eu_values[h] + us_values[h]);
    std::vector<store::ForecastRecord> records;
    for (const auto& [region, v] : std::vector<std::pair<std::string, std::vector<double>>>{
             {"eu", eu_values}, {"us", us_values}, {"total", total_values}}) {
      store::ForecastRecord r;
      r.resource_id = resource_id;
      r.origin_region = region;
      r.model = "seasonal_naive";
      r.first_hour = first;
      r.values = v;
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
    for (const std::vector<double>* rates : {&eu_values, &us_values}) {
      std::vector<float> v;
      for (int p = 0; p < kPaths; ++p) {
        const double scale = 0.9 + 0.2 * p / (kPaths - 1);
        for (int h = 0; h < kHours; ++h) v.push_back(static_cast<float>((*rates)[h] * scale));
      }
      paths.values.push_back(v);
    }
    std::vector<store::PathSumsRecord> windows;
    if (sums) {
      forecast::PathSumsOptions options;
      options.window_hours = static_cast<int>(absl::ToInt64Hours(plan_options_.defaults.horizon));
      options.starts = 4;
      // The bytes per request of the week before, as the refresher reads them.
      absl::StatusOr<std::map<std::string, double>> bytes =
          telemetry_->BytesPerRequest(resource_id, first - options.egress_history, first);
      ASSERT_TRUE(bytes.ok()) << bytes.status();
      windows = forecast::PathSumsOf(records, paths, options, *bytes);
      if (sums_of) sums_of(windows);
    }
    ASSERT_TRUE(forecasts_->UpsertPaths(paths, windows).ok());
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
  std::unique_ptr<store::DisruptionRepository> affinity_;
  std::unique_ptr<store::SyncRunRepository> sync_runs_;
  std::unique_ptr<store::ReservationRepository> reservations_;
  std::unique_ptr<store::LocationRepository> locations_;
  std::unique_ptr<store::MigrationRepository> migrations_;
  std::unique_ptr<store::ForecastRepository> forecasts_;
  std::unique_ptr<store::TelemetryRepository> telemetry_;
  std::unique_ptr<testing::WriteFencing> fencing_;
  std::unique_ptr<reservation::ReservationManager> placements_;
  std::unique_ptr<forecast::Forecaster> forecaster_;
  std::unique_ptr<forecast::Predictor> predictor_;
  std::unique_ptr<store::DecisionRepository> decisions_;
  std::unique_ptr<store::EventRepository> events_;
  PlanService::Sources sources_;
  PlanServiceOptions plan_options_;
  std::unique_ptr<PlanService> plans_;
  store::ReservationRecord reservation_;
};

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_TESTS_PLANNER_PLAN_TEST_FIXTURE_H_
