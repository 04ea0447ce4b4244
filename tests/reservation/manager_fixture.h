// A ReservationManager in process over the test database (label pg) and the fake compute and
// traffic providers (tests/support/fake_providers.h), with Frankfurt and Virginia seeded.
#ifndef SHADOWPLANE_TESTS_RESERVATION_MANAGER_FIXTURE_H_
#define SHADOWPLANE_TESTS_RESERVATION_MANAGER_FIXTURE_H_

#include <memory>
#include <string>

#include "common/clock.h"
#include "gtest/gtest.h"
#include "reservation/reservation_manager.h"
#include "support/fake_providers.h"
#include "support/test_database.h"
#include "support/write_fencing.h"

namespace shadowplane::reservation {

class ManagerOnDatabaseTest : public testing::MigratedDatabaseTest {
 protected:
  void SetUp() override {
    MigratedDatabaseTest::SetUp();
    ASSERT_TRUE(SeedFrankfurtAndVirginia().ok());
    reservations_ = std::make_unique<store::ReservationRepository>(pool_.get());
    locations_ = std::make_unique<store::LocationRepository>(pool_.get());
    fencing_ = std::make_unique<testing::WriteFencing>(pool_.get(), &compute_, &clock_);
    manager_ = std::make_unique<ReservationManager>(reservations_.get(), locations_.get(),
                                                    &compute_, &fencing_->writes, &clock_,
                                                    ReservationOptions(), nullptr, &traffic_);
  }

  // A small on-demand reservation whose clients are in eu.
  static ReserveSpec Spec(const std::string& request_id) {
    ReserveSpec spec;
    spec.request_id = request_id;
    spec.name = "web";
    spec.capacity = {500, 256, CapacityType::kOnDemand};
    spec.client_regions = {{"eu", 1.0}};
    return spec;
  }

  FakeClock clock_{absl::FromUnixSeconds(1796558400)};
  testing::FakeComputeProvider compute_;
  testing::FakeTrafficProvider traffic_;
  std::unique_ptr<store::ReservationRepository> reservations_;
  std::unique_ptr<store::LocationRepository> locations_;
  std::unique_ptr<testing::WriteFencing> fencing_;
  std::unique_ptr<ReservationManager> manager_;
};

}  // namespace shadowplane::reservation

#endif  // SHADOWPLANE_TESTS_RESERVATION_MANAGER_FIXTURE_H_
