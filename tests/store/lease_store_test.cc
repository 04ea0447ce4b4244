// Leases against a real PostgreSQL (label pg).
#include "store/lease_store.h"

#include <pqxx/pqxx>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "support/test_database.h"

namespace shadowplane::store {
namespace {

class LeaseStoreTest : public testing::MigratedDatabaseTest {
 protected:
  void SetUp() override {
    MigratedDatabaseTest::SetUp();
    if (HasFatalFailure()) return;
    leases_ = std::make_unique<LeaseStore>(pool_.get());
  }
  // The current holder as the table says, or "" when none holds an unexpired lease.
  std::string Holder(const std::string& name) {
    pqxx::connection conn(db_->url());
    pqxx::nontransaction txn(conn);
    const pqxx::result r =
        txn.exec_params("SELECT owner FROM leases WHERE name = $1 AND expires_at >= now()", name);
    return r.empty() ? std::string() : r[0][0].as<std::string>();
  }
  std::unique_ptr<LeaseStore> leases_;
};

TEST_F(LeaseStoreTest, OneHolderAtATimeUntilItExpiresOrIsReleased) {
  auto a = leases_->TryAcquire("loop", "replica-a", absl::Milliseconds(600));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(*a);
  EXPECT_FALSE(*leases_->TryAcquire("loop", "replica-b", absl::Seconds(10)));
  EXPECT_TRUE(*leases_->TryAcquire("loop", "replica-a", absl::Milliseconds(600)));  // renewal
  EXPECT_EQ(Holder("loop"), "replica-a");
  EXPECT_TRUE(*leases_->TryAcquire("other", "replica-b", absl::Seconds(10)));  // separate names
  // A stops renewing: once the lease has expired, B takes over.
  absl::SleepFor(absl::Milliseconds(900));
  EXPECT_EQ(Holder("loop"), "");
  EXPECT_TRUE(*leases_->TryAcquire("loop", "replica-b", absl::Seconds(10)));
  EXPECT_FALSE(*leases_->TryAcquire("loop", "replica-a", absl::Seconds(10)));
  // Released, it is free at once.
  ASSERT_TRUE(leases_->Release("loop", "replica-b").ok());
  EXPECT_TRUE(*leases_->TryAcquire("loop", "replica-a", absl::Seconds(10)));
  // Releasing a lease one does not hold changes nothing.
  ASSERT_TRUE(leases_->Release("loop", "replica-b").ok());
  EXPECT_EQ(Holder("loop"), "replica-a");
}

}  // namespace
}  // namespace shadowplane::store
