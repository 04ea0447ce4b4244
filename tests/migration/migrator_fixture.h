// The Migrator's steps in process, over a real PostgreSQL (label pg) with fake compute and traffic
// providers and a scripted shadow sync (tests/support): a reservation "web" placed in fra-1 with
// its shadow in iad-1, the migration manager, and a driver loop on the fake clock.
#ifndef SHADOWPLANE_TESTS_MIGRATION_MIGRATOR_FIXTURE_H_
#define SHADOWPLANE_TESTS_MIGRATION_MIGRATOR_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "gtest/gtest.h"
#include "migration/migration_manager.h"
#include "migration/migrator.h"
#include "prometheus/registry.h"
#include "reservation/reservation_manager.h"
#include "store/cutover_repository.h"
#include "store/migration_state.h"
#include "store/sync_run_repository.h"
#include "store/traffic_switch_repository.h"
#include "support/fake_providers.h"
#include "support/fake_target_sync.h"
#include "support/test_database.h"
#include "support/write_fencing.h"

namespace shadowplane::migration {

inline constexpr int64_t kMiB = 1 << 20;

class MigratorTest : public testing::MigratedDatabaseTest {
 protected:
  void SetUp() override {
    MigratedDatabaseTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(SeedFrankfurtAndVirginia().ok());
    BeforeReserve();
    if (HasFatalFailure()) return;
    reservations_ = std::make_unique<store::ReservationRepository>(pool_.get());
    locations_ = std::make_unique<store::LocationRepository>(pool_.get());
    migrations_ = std::make_unique<store::MigrationRepository>(pool_.get());
    forecasts_ = std::make_unique<store::ForecastRepository>(pool_.get());
    telemetry_ = std::make_unique<store::TelemetryRepository>(pool_.get());
    cutovers_ = std::make_unique<store::CutoverRepository>(pool_.get());
    switches_ = std::make_unique<store::TrafficSwitchRepository>(pool_.get());
    disruption_records_ = std::make_unique<store::DisruptionRepository>(pool_.get());
    disruptions_ = std::make_unique<DisruptionCounter>(disruption_records_.get(), &compute_,
                                                       absl::Minutes(15), nullptr);
    switcher_ =
        std::make_unique<traffic::TrafficSwitcher>(&traffic_, switches_.get(), &clock_, nullptr);
    freeze_model_ = std::make_unique<FreezeModelKeeper>(cutovers_.get(), &clock_);
    fencing_ = std::make_unique<testing::WriteFencing>(pool_.get(), &compute_, &clock_);
    placements_ = std::make_unique<reservation::ReservationManager>(
        reservations_.get(), locations_.get(), &compute_, &fencing_->writes, &clock_,
        reservation::ReservationOptions(), nullptr, &traffic_);
    manager_ = std::make_unique<MigrationManager>(migrations_.get(), reservations_.get(),
                                                  locations_.get(), &fencing_->leases,
                                                  disruption_records_.get(), &clock_, nullptr);
    options_.max_precopy_rounds = 5;
    options_.observe_window = absl::Hours(1);
    Build();
    reservation::ReserveSpec spec;
    spec.request_id = "web-1";
    spec.name = "web";
    spec.capacity = {500, 256, capacity_type_};
    spec.client_regions = {{"eu", 1.0}};
    auto r = placements_->Reserve(spec);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->primary.location, "fra-1");
    ASSERT_EQ(r->shadow.location, "iad-1");
    reservation_ = *r;
  }

  // Runs after the catalog is seeded, before "web" is reserved.
  virtual void BeforeReserve() {}

  void Build() {
    migrator_ = std::make_unique<Migrator>(
        migrations_.get(), reservations_.get(), locations_.get(), forecasts_.get(),
        telemetry_.get(), &compute_, &fencing_->writes, &sync_, &traffic_, switcher_.get(),
        freeze_model_.get(), disruptions_.get(), &clock_, options_, nullptr);
  }

  absl::StatusOr<store::MigrationRecord> MigrateTo(const std::string& location) {
    MigrateSpec spec;
    spec.request_id = "move-1";
    spec.reservation_id = reservation_.id;
    spec.target_location = location;
    spec.reason = "test";
    return manager_->Migrate(spec);
  }

  // Steps `m` as its driver would (no lease), waiting on the fake clock, until it is final or a
  // step fails; the states it passed through, consecutive repeats folded.
  std::vector<std::string> Run(store::MigrationRecord& m, absl::Status* failed = nullptr) {
    std::vector<std::string> states = {store::StateName(m.state)};
    for (int i = 0; i < 200 && !store::IsFinal(m.state); ++i) {
      absl::StatusOr<StepResult> step = migrator_->Step(m, "");
      if (!step.ok()) {
        if (failed != nullptr) *failed = step.status();
        return states;
      }
      m = step->migration;
      if (store::StateName(m.state) != states.back()) states.push_back(store::StateName(m.state));
      clock_.Advance(step->wait);
    }
    return states;
  }

  // A good round into the shadow, recorded as shadow sync records one: the reservation's
  // last_synced_at.
  absl::Status RecordShadowRound() {
    store::SyncRunRepository runs(pool_.get());
    store::SyncRunRecord run;
    run.reservation_id = reservation_.id;
    run.source_instance = reservation_.primary.id;
    run.target_instance = reservation_.shadow.id;
    run.trigger = "periodic";
    run.mode = "quick";
    run.started_at = clock_.Now();
    run.finished_at = clock_.Now();
    run.result = "ok";
    return runs.Record(run);
  }

  int Rounds(shadow::SyncTrigger trigger) {
    int n = 0;
    for (const auto& round : sync_.rounds()) n += round.trigger == trigger;
    return n;
  }

  // The reservation's capacity type, set before SetUp.
  CapacityType capacity_type_ = CapacityType::kOnDemand;
  FakeClock clock_{absl::FromUnixSeconds(1796558400)};
  testing::FakeComputeProvider compute_;
  testing::FakeTrafficProvider traffic_;
  testing::FakeTargetSync sync_;
  MigratorOptions options_;
  std::unique_ptr<store::ReservationRepository> reservations_;
  std::unique_ptr<store::LocationRepository> locations_;
  std::unique_ptr<store::MigrationRepository> migrations_;
  std::unique_ptr<store::ForecastRepository> forecasts_;
  std::unique_ptr<store::TelemetryRepository> telemetry_;
  std::unique_ptr<store::CutoverRepository> cutovers_;
  std::unique_ptr<store::DisruptionRepository> disruption_records_;
  std::unique_ptr<DisruptionCounter> disruptions_;
  std::unique_ptr<store::TrafficSwitchRepository> switches_;
  std::unique_ptr<traffic::TrafficSwitcher> switcher_;
  std::unique_ptr<FreezeModelKeeper> freeze_model_;
  std::unique_ptr<testing::WriteFencing> fencing_;
  std::unique_ptr<reservation::ReservationManager> placements_;
  std::unique_ptr<MigrationManager> manager_;
  std::unique_ptr<Migrator> migrator_;
  store::ReservationRecord reservation_;
};

}  // namespace shadowplane::migration

#endif  // SHADOWPLANE_TESTS_MIGRATION_MIGRATOR_FIXTURE_H_
