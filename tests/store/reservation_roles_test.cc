// A migration's cutover recorded in `instances` (label pg): the shadow becomes the read-write
// primary and the old primary the read-only shadow in one transaction; retried, it is a no-op;
// an instance of another resource, or a stopped one, cannot take over.
#include <pqxx/pqxx>

#include "gtest/gtest.h"
#include "store/reservation_repository.h"
#include "support/test_database.h"

namespace shadowplane::store {
namespace {

constexpr char kResource[] = "eeeeeeee-0000-4000-8000-000000000001";
constexpr char kOther[] = "eeeeeeee-0000-4000-8000-000000000002";
constexpr char kPrimary[] = "eeeeeeee-0000-4000-8000-0000000000a1";
constexpr char kShadow[] = "eeeeeeee-0000-4000-8000-0000000000a2";
constexpr char kStranger[] = "eeeeeeee-0000-4000-8000-0000000000b1";

class ReservationRolesTest : public testing::MigratedDatabaseTest {
 protected:
  void SetUp() override {
    MigratedDatabaseTest::SetUp();
    ASSERT_TRUE(SeedRegion("eu", 50, 8).ok());
    ASSERT_TRUE(SeedLocation("fra-1", "eu", 50, 8).ok());
    for (const char* id : {kResource, kOther}) ASSERT_TRUE(SeedResource(id).ok());
    ASSERT_TRUE(pool_
                    ->Run("seeding",
                          [&](pqxx::connection& conn) -> absl::Status {
                            pqxx::work txn(conn);
                            for (const auto& [id, resource, role] :
                                 {std::tuple{kPrimary, kResource, "primary"},
                                  std::tuple{kShadow, kResource, "shadow"},
                                  std::tuple{kStranger, kOther, "shadow"}}) {
                              txn.exec_params(
                                  "INSERT INTO instances (id, resource_id, role, location, "
                                  "capacity_millicores, memory_mib, capacity_type, read_only, "
                                  "state, created_at, updated_at) VALUES ($1::uuid, $2::uuid, "
                                  "$3, 'fra-1', 500, 256, 'on_demand', $4, 'running', now(), "
                                  "now())",
                                  id, resource, role, std::string(role) == "shadow");
                            }
                            txn.commit();
                            return absl::OkStatus();
                          })
                    .ok());
    repo_ = std::make_unique<ReservationRepository>(pool_.get());
  }

  // role and read_only of `id`.
  std::pair<std::string, bool> Role(const char* id) {
    std::pair<std::string, bool> out;
    EXPECT_TRUE(pool_
                    ->Run("reading",
                          [&](pqxx::connection& conn) -> absl::Status {
                            pqxx::read_transaction txn(conn);
                            auto r = txn.exec_params(
                                "SELECT role, read_only FROM instances WHERE id = $1::uuid", id);
                            out = {r[0][0].as<std::string>(), r[0][1].as<bool>()};
                            return absl::OkStatus();
                          })
                    .ok());
    return out;
  }

  std::unique_ptr<ReservationRepository> repo_;
};

TEST_F(ReservationRolesTest, TheShadowTakesOverAndTheOldPrimaryStepsDownInOneMove) {
  const absl::Time now = absl::FromUnixSeconds(1796558400);
  ASSERT_TRUE(repo_->SwapRoles(kResource, kShadow, now).ok());
  EXPECT_EQ(Role(kShadow), std::make_pair(std::string("primary"), false));
  EXPECT_EQ(Role(kPrimary), std::make_pair(std::string("shadow"), true));
  EXPECT_TRUE(repo_->SwapRoles(kResource, kShadow, now).ok()) << "a retried step";
  EXPECT_EQ(Role(kPrimary), std::make_pair(std::string("shadow"), true));
  EXPECT_EQ(repo_->SwapRoles(kResource, kStranger, now).code(),
            absl::StatusCode::kFailedPrecondition)
      << "another resource's instance";
  EXPECT_EQ(repo_->SwapRoles(kResource, "not-a-uuid", now).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(repo_->SetInstance(kPrimary, "stopped", "", now).ok());
  EXPECT_EQ(repo_->SwapRoles(kResource, kPrimary, now).code(),
            absl::StatusCode::kFailedPrecondition)
      << "a stopped instance cannot take over";
  EXPECT_EQ(Role(kShadow).first, "primary");
}

}  // namespace
}  // namespace shadowplane::store
