// Epochs and write leases in PostgreSQL (label pg), through the reservation manager that grants a
// new primary its writes: a renewal is granted only to the live read-write instance of the
// current epoch at its own location; a handover moves the epoch on, after which the old writer's
// renewals are refused as superseded; an old epoch is never handed out again; a writer whose
// renewals stopped is found silent.
#include "fencing/write_authority.h"
#include "gtest/gtest.h"
#include "reservation/reservation_manager.h"
#include "store/reservation_repository.h"
#include "store/write_lease_repository.h"
#include "support/fake_providers.h"
#include "support/test_database.h"
#include "support/write_fencing.h"

namespace shadowplane::fencing {
namespace {

using store::LeaseVerdict;

class WriteLeaseTest : public testing::MigratedDatabaseTest {
 protected:
  void SetUp() override {
    MigratedDatabaseTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(SeedFrankfurtAndVirginia().ok());
    reservations_ = std::make_unique<store::ReservationRepository>(pool_.get());
    locations_ = std::make_unique<store::LocationRepository>(pool_.get());
    fencing_ = std::make_unique<testing::WriteFencing>(pool_.get(), &compute_, &clock_);
    manager_ = std::make_unique<reservation::ReservationManager>(
        reservations_.get(), locations_.get(), &compute_, &fencing_->writes, &clock_,
        reservation::ReservationOptions(), nullptr);
    reservation::ReserveSpec spec;
    spec.request_id = "web-1";
    spec.name = "web";
    spec.capacity = {500, 256, CapacityType::kOnDemand};
    spec.client_regions = {{"eu", 1.0}};
    auto r = manager_->Reserve(spec);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->state, "active");
    reservation_ = *r;
  }

  store::LeaseRenewal Renew(const store::InstanceRecord& i, const std::string& location,
                            int64_t epoch) {
    auto renewal = fencing_->leases.Renew(i.id, location, epoch, absl::Seconds(10));
    EXPECT_TRUE(renewal.ok()) << renewal.status();
    return renewal.value_or(store::LeaseRenewal{});
  }

  FakeClock clock_{absl::FromUnixSeconds(1796558400)};
  testing::FakeComputeProvider compute_;
  std::unique_ptr<store::ReservationRepository> reservations_;
  std::unique_ptr<store::LocationRepository> locations_;
  std::unique_ptr<testing::WriteFencing> fencing_;
  std::unique_ptr<reservation::ReservationManager> manager_;
  store::ReservationRecord reservation_;
};

TEST_F(WriteLeaseTest, ANewPrimaryIsGrantedTheFirstEpochAndALeaseTheShadowNone) {
  const auto& primary = reservation_.primary;
  const auto& shadow = reservation_.shadow;
  auto lease = fencing_->leases.Lease(primary.id);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(lease->primary_epoch, 1);
  EXPECT_EQ(lease->write_epoch, 1);
  EXPECT_TRUE(lease->held()) << "recorded when the agent took the grant";
  const auto instances = compute_.instances();
  EXPECT_EQ(instances.at(primary.id).epoch, 1);
  EXPECT_GT(instances.at(primary.id).write_lease_left, absl::Seconds(5));
  EXPECT_EQ(instances.at(shadow.id).write_lease_left, absl::ZeroDuration());
  auto shadow_lease = fencing_->leases.Lease(shadow.id);
  ASSERT_TRUE(shadow_lease.ok());
  EXPECT_FALSE(shadow_lease->held());
}

TEST_F(WriteLeaseTest, OnlyTheCurrentWriterAtItsOwnLocationIsRenewed) {
  const auto& primary = reservation_.primary;
  const auto& shadow = reservation_.shadow;
  store::LeaseRenewal granted = Renew(primary, primary.location, 1);
  EXPECT_EQ(granted.verdict, LeaseVerdict::kGranted);
  EXPECT_EQ(granted.current_epoch, 1);
  EXPECT_EQ(Renew(primary, shadow.location, 1).verdict, LeaseVerdict::kNotWriter)
      << "another location's agent cannot renew it";
  EXPECT_EQ(Renew(shadow, shadow.location, 1).verdict, LeaseVerdict::kNotWriter)
      << "a read-only shadow";
  EXPECT_EQ(Renew(primary, primary.location, 7).verdict, LeaseVerdict::kNotWriter)
      << "an epoch that never was";
  auto unknown =
      fencing_->leases.Renew("bbbbbbbb-0000-4000-8000-00000000ffff", "fra-1", 1, absl::Seconds(10));
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_EQ(unknown->verdict, LeaseVerdict::kNotWriter);
  EXPECT_EQ(fencing_->leases.Lease("bbbbbbbb-0000-4000-8000-00000000ffff").status().code(),
            absl::StatusCode::kNotFound);
}

// An agent's every lease in one call: each answered in the order asked, as if asked alone.
TEST_F(WriteLeaseTest, AllOfAnAgentsLeasesAreRenewedInOneCallEachWithItsOwnVerdict) {
  const auto& primary = reservation_.primary;
  const auto& shadow = reservation_.shadow;
  // A second resource whose primary the same location runs.
  reservation::ReserveSpec spec;
  spec.request_id = "web-2";
  spec.name = "web2";
  spec.capacity = {500, 256, CapacityType::kOnDemand};
  spec.client_regions = {{"eu", 1.0}};
  auto second = manager_->Reserve(spec);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->primary.location, primary.location);
  ASSERT_TRUE(fencing_->writes.Grant(second->shadow, /*new_epoch=*/true).ok());  // handed over

  auto answers = fencing_->leases.RenewAll(primary.location,
                                           {{primary.id, 1},
                                            {second->primary.id, 1},
                                            {shadow.id, 1},
                                            {"bbbbbbbb-0000-4000-8000-00000000ffff", 1},
                                            {"not-a-uuid", 1},
                                            {primary.id, 7}},
                                           absl::Seconds(10));
  ASSERT_TRUE(answers.ok()) << answers.status();
  ASSERT_EQ(answers->size(), 6u);
  EXPECT_EQ((*answers)[0].verdict, LeaseVerdict::kGranted);
  EXPECT_EQ((*answers)[0].current_epoch, 1);
  EXPECT_EQ((*answers)[1].verdict, LeaseVerdict::kSuperseded) << "handed over";
  EXPECT_EQ((*answers)[1].current_epoch, 2);
  EXPECT_EQ((*answers)[2].verdict, LeaseVerdict::kNotWriter) << "a shadow elsewhere";
  EXPECT_EQ((*answers)[3].verdict, LeaseVerdict::kNotWriter) << "unknown";
  EXPECT_EQ((*answers)[3].current_epoch, 0);
  EXPECT_EQ((*answers)[4].verdict, LeaseVerdict::kNotWriter) << "not an id";
  EXPECT_EQ((*answers)[5].verdict, LeaseVerdict::kNotWriter) << "an epoch that never was";
  auto none = fencing_->leases.RenewAll(primary.location, {}, absl::Seconds(10));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// A grant whose call failed may still have reached the instance (its agent died answering): its
// lease is recorded all the same, so no other instance is made writable before it runs out. One
// the location refused outright records none.
TEST_F(WriteLeaseTest, AGrantThatMayHaveArrivedHoldsALeaseThoughItsCallFailed) {
  const auto& shadow = reservation_.shadow;
  compute_.FailAt(shadow.location, absl::UnavailableError("the agent died answering"));
  auto failed = fencing_->writes.Grant(shadow, /*new_epoch=*/true);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  auto lease = fencing_->leases.Lease(shadow.id);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(lease->write_epoch, 2);
  EXPECT_TRUE(lease->held()) << "recorded as if the grant had arrived";

  const auto& primary = reservation_.primary;
  ASSERT_TRUE(ExpireWriteLease(primary.id).ok());
  compute_.FailAt(primary.location, absl::FailedPreconditionError("refused"));
  EXPECT_EQ(fencing_->writes.Grant(primary, /*new_epoch=*/true).status().code(),
            absl::StatusCode::kFailedPrecondition);
  lease = fencing_->leases.Lease(primary.id);
  ASSERT_TRUE(lease.ok());
  EXPECT_FALSE(lease->held()) << "refused outright: it never held it";
}

TEST_F(WriteLeaseTest, AHandoverMovesTheEpochOnAndTheOldWriterIsSuperseded) {
  const auto& primary = reservation_.primary;
  const auto& shadow = reservation_.shadow;
  auto handed = fencing_->writes.Grant(shadow, /*new_epoch=*/true);
  ASSERT_TRUE(handed.ok()) << handed.status();
  EXPECT_EQ(compute_.instances().at(shadow.id).epoch, 2);
  EXPECT_FALSE(compute_.instances().at(shadow.id).read_only);

  const store::LeaseRenewal old = Renew(primary, primary.location, 1);
  EXPECT_EQ(old.verdict, LeaseVerdict::kSuperseded);
  EXPECT_EQ(old.current_epoch, 2);
  EXPECT_EQ(Renew(shadow, shadow.location, 2).verdict, LeaseVerdict::kGranted);
  EXPECT_EQ(Renew(shadow, shadow.location, 1).verdict, LeaseVerdict::kSuperseded)
      << "its own older epoch";

  // The old primary cannot be handed writes again in the epoch it lost, only by a new grant.
  const absl::Status again =
      fencing_->leases.Grant(primary.id, /*new_epoch=*/false, clock_.Now()).status();
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition) << again;
  auto back = fencing_->leases.Grant(primary.id, /*new_epoch=*/true, clock_.Now());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, 3);
  EXPECT_EQ(Renew(shadow, shadow.location, 2).verdict, LeaseVerdict::kSuperseded);
}

TEST_F(WriteLeaseTest, AWriterWhoseRenewalsStoppedIsSilent) {
  auto none = fencing_->leases.Silent(absl::Hours(1), 10);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty()) << "renewed a moment ago";
  auto silent = fencing_->leases.Silent(absl::ZeroDuration(), 10);
  ASSERT_TRUE(silent.ok()) << silent.status();
  ASSERT_EQ(silent->size(), 1u) << "the primary, not the shadow";
  EXPECT_EQ(silent->front().instance_id, reservation_.primary.id);
  EXPECT_EQ(silent->front().location, reservation_.primary.location);
  EXPECT_EQ(silent->front().reservation_id, reservation_.id);
}

TEST_F(WriteLeaseTest, ALostLeaseIsRecordedNoLongerHeld) {
  ASSERT_TRUE(ExpireWriteLease(reservation_.primary.id).ok());
  auto lease = fencing_->leases.Lease(reservation_.primary.id);
  ASSERT_TRUE(lease.ok());
  EXPECT_FALSE(lease->held());
  EXPECT_EQ(Renew(reservation_.primary, reservation_.primary.location, 1).verdict,
            LeaseVerdict::kGranted)
      << "still the writer: a renewal after a gap is granted again";
  lease = fencing_->leases.Lease(reservation_.primary.id);
  EXPECT_TRUE(lease->held());
}

}  // namespace
}  // namespace shadowplane::fencing
