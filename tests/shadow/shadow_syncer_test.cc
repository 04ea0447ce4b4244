// ShadowSyncer in process, over a real PostgreSQL (label pg) with reservations placed on the fake
// compute provider: what it refuses before any agent is asked, and a round whose agent cannot be
// reached, recorded in sync_runs and counted. Rounds between real agents are tested in tests/sync/
// and the process tests.
#include "shadow/shadow_syncer.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "absl/strings/match.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "reservation/reservation_manager.h"
#include "support/fake_providers.h"
#include "support/test_database.h"
#include "support/write_fencing.h"

namespace shadowplane::shadow {
namespace {

class ShadowSyncerTest : public testing::MigratedDatabaseTest {
 protected:
  void SetUp() override {
    MigratedDatabaseTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(SeedFrankfurtAndVirginia().ok());
    reservations_ = std::make_unique<store::ReservationRepository>(pool_.get());
    locations_ = std::make_unique<store::LocationRepository>(pool_.get());
    inventory_ = std::make_unique<store::InventoryStore>(pool_.get());
    runs_ = std::make_unique<store::SyncRunRepository>(pool_.get());
    fencing_ = std::make_unique<testing::WriteFencing>(pool_.get(), &compute_, &clock_);
    placements_ = std::make_unique<reservation::ReservationManager>(
        reservations_.get(), locations_.get(), &compute_, &fencing_->writes, &clock_,
        reservation::ReservationOptions(), nullptr);
    ShadowSyncerOptions options;
    options.round_timeout = absl::Seconds(5);
    syncer_ = std::make_unique<ShadowSyncer>(reservations_.get(), inventory_.get(), runs_.get(),
                                             &clock_, options, &registry_);
    reservation::ReserveSpec spec;
    spec.request_id = "web-1";
    spec.name = "web";
    spec.capacity = {500, 256, CapacityType::kOnDemand};
    spec.client_regions = {{"eu", 1.0}};
    auto r = placements_->Reserve(spec);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->state, "active");
    reservation_ = *r;
  }

  FakeClock clock_{absl::FromUnixSeconds(1796558400)};
  testing::FakeComputeProvider compute_;
  prometheus::Registry registry_;
  std::unique_ptr<store::ReservationRepository> reservations_;
  std::unique_ptr<store::LocationRepository> locations_;
  std::unique_ptr<store::InventoryStore> inventory_;
  std::unique_ptr<store::SyncRunRepository> runs_;
  std::unique_ptr<testing::WriteFencing> fencing_;
  std::unique_ptr<reservation::ReservationManager> placements_;
  std::unique_ptr<ShadowSyncer> syncer_;
  store::ReservationRecord reservation_;
};

TEST_F(ShadowSyncerTest, RefusesWhatItCannotSyncBeforeAskingAnyAgent) {
  EXPECT_EQ(
      syncer_->Sync("bbbbbbbb-0000-4000-8000-00000000ffff", SyncTrigger::kManual).status().code(),
      absl::StatusCode::kNotFound);
  const absl::Status into_primary =
      syncer_->SyncInto(reservation_.id, reservation_.primary.id, SyncTrigger::kFull).status();
  EXPECT_EQ(into_primary.code(), absl::StatusCode::kFailedPrecondition) << into_primary;
  const absl::Status into_stranger =
      syncer_->SyncInto(reservation_.id, "aaaaaaaa-0000-4000-8000-00000000ffff", SyncTrigger::kFull)
          .status();
  EXPECT_EQ(into_stranger.code(), absl::StatusCode::kFailedPrecondition) << into_stranger;
  EXPECT_TRUE(absl::StrContains(into_stranger.message(), "not a running copy")) << into_stranger;
  ASSERT_TRUE(placements_->Release(reservation_.id).ok());
  const absl::Status released = syncer_->Sync(reservation_.id, SyncTrigger::kManual).status();
  EXPECT_EQ(released.code(), absl::StatusCode::kFailedPrecondition) << released;
  auto runs = runs_->List(reservation_.id, 10);
  ASSERT_TRUE(runs.ok()) << runs.status();
  EXPECT_TRUE(runs->empty()) << "nothing was run, so nothing is recorded";
}

TEST_F(ShadowSyncerTest, ARoundWhoseAgentCannotBeReachedIsRecordedAsFailedAndCounted) {
  const absl::Status s = syncer_->Sync(reservation_.id, SyncTrigger::kManual).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_FALSE(syncer_->Running(reservation_.id)) << "the claim is given back";
  auto runs = runs_->List(reservation_.id, 10);
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 1u);
  const store::SyncRunRecord& run = (*runs)[0];
  EXPECT_EQ(run.result, "failed");
  EXPECT_EQ(run.trigger, "manual");
  EXPECT_EQ(run.target_instance, reservation_.shadow.id);
  EXPECT_FALSE(run.error.empty());
  const std::string metrics = prometheus::TextSerializer().Serialize(registry_.Collect());
  EXPECT_TRUE(
      absl::StrContains(metrics, "shadowplane_sync_failures_total{reason=\"unavailable\"} 1"))
      << metrics;
  EXPECT_TRUE(absl::StrContains(
      metrics, "shadowplane_sync_rounds_total{result=\"failed\",trigger=\"manual\"} 1"))
      << metrics;
}

}  // namespace
}  // namespace shadowplane::shadow
