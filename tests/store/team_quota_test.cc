// Team quotas (store/team_quota.h; label pg): reservations made at once by one team never hold
// more than its quota together, released ones stop counting, a reservation's growth is claimed
// against it, and sums past INT64_MAX are refused rather than wrapped. Owner teams and forwarding
// secrets are read back as written.
#include "store/team_quota.h"

#include <atomic>
#include <limits>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "store/reservation_repository.h"
#include "support/test_database.h"

namespace shadowplane::store {
namespace {

TEST(WithinTeamQuotaTest, NamesTheTeamTheLimitTheUseAndTheAsk) {
  const TeamQuota quota{3000, 4096};
  EXPECT_TRUE(WithinTeamQuota("web", quota, {2000, 1024}, {1000, 3072}).ok());
  const absl::Status over = WithinTeamQuota("web", quota, {2500, 0}, {1000, 1});
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(over.message(),
            "team 'web' quota of 3000 millicores exceeded: 2500 in use, 1000 asked");
  const absl::Status memory = WithinTeamQuota("web", quota, {0, 4000}, {1, 97});
  EXPECT_EQ(memory.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(memory.message(), "4096 memory_mib")) << memory;
  // No limit set: anything goes; sums that would wrap are over any limit.
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_TRUE(WithinTeamQuota("web", TeamQuota{}, {kMax, kMax}, {kMax, kMax}).ok());
  EXPECT_EQ(WithinTeamQuota("web", {kMax, std::nullopt}, {kMax - 1, 0}, {10, 0}).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(WithinTeamQuota("web", quota, {kMax, 0}, {0, 0}).code(),
            absl::StatusCode::kResourceExhausted);
}

class TeamQuotaTest : public testing::MigratedDatabaseTest {
 protected:
  void SetUp() override {
    MigratedDatabaseTest::SetUp();
    ASSERT_TRUE(SeedRegion("eu", 50, 8).ok());
    ASSERT_TRUE(SeedLocation("fra-1", "eu", 50, 8).ok());
    repo_ = std::make_unique<ReservationRepository>(pool_.get());
  }

  static ReservationRecord Draft(const std::string& request_id, const std::string& team,
                                 int64_t millicores) {
    ReservationRecord r;
    r.request_id = request_id;
    r.name = request_id;
    r.capacity = {millicores, 256, CapacityType::kOnDemand};
    r.placement_json = "{}";
    r.planner_overrides_json = "{}";
    r.owner_team = team;
    r.primary = {"", "primary", "fra-1", "", r.capacity, false, "creating", ""};
    r.shadow = {"", "shadow", "fra-1", "", {millicores / 4, 64}, true, "creating", ""};
    return r;
  }

  std::unique_ptr<ReservationRepository> repo_;
  const absl::Time now_ = absl::FromUnixSeconds(1796558400);
};

TEST_F(TeamQuotaTest, ReservationsMadeAtOnceNeverHoldMoreThanTheQuota) {
  const TeamQuota quota{3000, std::nullopt};
  constexpr int kCalls = 8;
  std::atomic<int> made{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<ReservationRecord> r =
          repo_->CreatePending(Draft(absl::StrCat("web-", i), "web", 1000), now_, quota);
      if (r.ok()) {
        ++made;
      } else if (absl::IsResourceExhausted(r.status())) {
        ++refused;
      } else {
        ++other;
        ADD_FAILURE() << r.status();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(made.load(), 3);
  EXPECT_EQ(refused.load(), kCalls - 3);
  EXPECT_EQ(other.load(), 0);

  // Another team, and a reservation of no team, are not this quota's business.
  EXPECT_TRUE(repo_->CreatePending(Draft("batch-0", "batch", 3000), now_, quota).ok());
  EXPECT_TRUE(repo_->CreatePending(Draft("none-0", "", 9000), now_, quota).ok());

  // A released reservation stops counting.
  ReservationFilter web;
  web.owner_team = "web";
  absl::StatusOr<std::vector<ReservationRecord>> mine = repo_->List(web);
  ASSERT_TRUE(mine.ok()) << mine.status();
  ASSERT_EQ(mine->size(), 3u);
  for (const ReservationRecord& r : *mine) EXPECT_EQ(r.owner_team, "web");
  EXPECT_EQ(repo_->CreatePending(Draft("web-late", "web", 1000), now_, quota).status().code(),
            absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(repo_->SetState(mine->front().id, "released", "", now_).ok());
  EXPECT_TRUE(repo_->CreatePending(Draft("web-late", "web", 1000), now_, quota).ok());
}

TEST_F(TeamQuotaTest, GrowingIsClaimedAgainstTheQuotaAndARefusalChangesNothing) {
  const TeamQuota quota{3000, 1024};
  absl::StatusOr<ReservationRecord> a = repo_->CreatePending(Draft("a", "web", 1000), now_, quota);
  absl::StatusOr<ReservationRecord> b = repo_->CreatePending(Draft("b", "web", 1000), now_, quota);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(repo_->ClaimCapacity(a->id, {2000, 256, CapacityType::kOnDemand}, quota, now_).ok())
      << "its own size does not count twice";
  const absl::Status over =
      repo_->ClaimCapacity(b->id, {1500, 256, CapacityType::kOnDemand}, quota, now_);
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(over.message(), "team 'web' quota of 3000 millicores")) << over;
  absl::StatusOr<ReservationRecord> unchanged = repo_->Get(b->id);
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->capacity.millicores, 1000);
  EXPECT_EQ(repo_->ClaimCapacity(b->id, {1000, 1024, CapacityType::kOnDemand}, quota, now_).code(),
            absl::StatusCode::kResourceExhausted)
      << "memory: 256 + 1024 > 1024";
  EXPECT_EQ(repo_
                ->ClaimCapacity("00000000-0000-4000-8000-000000000000",
                                {1, 1, CapacityType::kOnDemand}, quota, now_)
                .code(),
            absl::StatusCode::kNotFound);
}

TEST_F(TeamQuotaTest, OwnerTeamsAndForwardSecretsAreReadBackAndUnknownIdsFindNothing) {
  absl::StatusOr<ReservationRecord> a = repo_->CreatePending(Draft("a", "web", 1000), now_);
  absl::StatusOr<ReservationRecord> b = repo_->CreatePending(Draft("b", "", 1000), now_);
  ASSERT_TRUE(a.ok() && b.ok());
  // Each resource has its own forwarding secret, the same on every read.
  EXPECT_EQ(a->forward_secret.size(), 64u);
  EXPECT_NE(a->forward_secret, b->forward_secret);
  EXPECT_EQ(repo_->Get(a->id)->forward_secret, a->forward_secret);
  using Owned = ReservationRepository::Owned;
  EXPECT_EQ(repo_->OwnerTeamOf(Owned::kReservation, a->id).value(), "web");
  EXPECT_EQ(repo_->OwnerTeamOf(Owned::kReservation, b->id).value(), "");
  EXPECT_EQ(repo_->OwnerTeamOf(Owned::kReservation, "00000000-0000-4000-8000-000000000000").value(),
            std::nullopt);
  EXPECT_EQ(repo_->OwnerTeamOf(Owned::kMigration, "not-a-uuid").value(), std::nullopt);
  EXPECT_EQ(repo_->OwnerTeamOf(Owned::kDecision, a->id).value(), std::nullopt);
}

}  // namespace
}  // namespace shadowplane::store
