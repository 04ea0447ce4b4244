// The persisted migration state machine on a real PostgreSQL (label pg): idempotent creation, one
// unfinished migration per resource, compare-and-set moves with their events, and leases that
// one driver holds at a time and another takes over when they expire.
#include "store/migration_repository.h"

#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "store/location_repository.h"
#include "support/test_database.h"

namespace shadowplane::store {
namespace {

using S = MigrationState;

constexpr char kResource[] = "dddddddd-0000-4000-8000-000000000001";
constexpr char kOther[] = "dddddddd-0000-4000-8000-000000000002";
const absl::Time kNow = absl::FromUnixSeconds(1796558400);

class MigrationRepositoryTest : public testing::MigratedDatabaseTest {
 protected:
  void SetUp() override {
    MigratedDatabaseTest::SetUp();
    ASSERT_TRUE(SeedRegion("eu", 50, 8).ok());
    ASSERT_TRUE(SeedLocation("fra-1", "eu", 50, 8).ok());
    for (const char* id : {kResource, kOther}) ASSERT_TRUE(SeedResource(id).ok());
    repo_ = std::make_unique<MigrationRepository>(pool_.get());
  }

  MigrationRecord Planned(const std::string& request_id, const std::string& resource) {
    MigrationRecord m;
    m.request_id = request_id;
    m.resource_id = resource;
    m.reason = "manual";
    m.target_location = "fra-1";
    return m;
  }

  std::unique_ptr<MigrationRepository> repo_;
};

TEST_F(MigrationRepositoryTest, CreationIsIdempotentAndOneMigrationPerResourceAtATime) {
  bool created = false;
  auto first = repo_->Create(Planned("mig-1", kResource), kNow, &created);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(created);
  EXPECT_EQ(first->state, S::kPlanned);
  EXPECT_EQ(first->created_at, kNow);
  auto again = repo_->Create(Planned("mig-1", kResource), kNow + absl::Seconds(5), &created);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(again->id, first->id);
  auto second = repo_->Create(Planned("mig-2", kResource), kNow, &created);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(second.status().message(), first->id)) << second.status();
  EXPECT_TRUE(repo_->Create(Planned("mig-3", kOther), kNow, &created).ok()) << "another resource";
  // Once the first is finished, the resource may migrate again.
  ASSERT_TRUE(repo_
                  ->Transition(first->id, S::kPlanned, S::kFailed,
                               {std::nullopt, "gave up", std::nullopt, "{}"}, kNow, "")
                  .ok());
  EXPECT_TRUE(repo_->Create(Planned("mig-2", kResource), kNow, &created).ok());
  EXPECT_EQ(repo_->Get("dddddddd-0000-4000-8000-00000000ffff").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(repo_->Get("nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(MigrationRepositoryTest, MovesAreCompareAndSetAndEachLeavesAnEvent) {
  bool created = false;
  auto m = repo_->Create(Planned("mig-1", kResource), kNow, &created);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(repo_
                  ->Transition(m->id, S::kPlanned, S::kPreparingTarget,
                               {std::nullopt, std::nullopt, std::nullopt, R"({"target":"fra-1"})"},
                               kNow + absl::Seconds(1), "")
                  .ok());
  // A stale driver still thinks it is PLANNED: refused, nothing written.
  const absl::Status stale =
      repo_->Transition(m->id, S::kPlanned, S::kPreparingTarget, {}, kNow + absl::Seconds(2), "");
  EXPECT_EQ(stale.code(), absl::StatusCode::kAborted) << stale;
  EXPECT_TRUE(absl::StrContains(stale.message(), "PREPARING_TARGET")) << stale;
  auto events = repo_->Events(m->id);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].from_state, "");
  EXPECT_EQ((*events)[0].to_state, "PLANNED");
  EXPECT_TRUE(absl::StrContains((*events)[0].detail_json, "manual"));
  EXPECT_EQ((*events)[1].from_state, "PLANNED");
  EXPECT_EQ((*events)[1].to_state, "PREPARING_TARGET");
  EXPECT_TRUE(absl::StrContains((*events)[1].detail_json, "fra-1"));
  auto now = repo_->Get(m->id);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->state, S::kPreparingTarget);
  EXPECT_EQ(now->updated_at, kNow + absl::Seconds(1));
  EXPECT_EQ(repo_
                ->Transition("dddddddd-0000-4000-8000-00000000ffff", S::kPlanned, S::kFailed, {},
                             kNow, "")
                .code(),
            absl::StatusCode::kNotFound);
}

TEST_F(MigrationRepositoryTest, AMoveTheStateMachineDoesNotAllowIsRefusedAndChangesNothing) {
  bool created = false;
  auto m = repo_->Create(Planned("mig-illegal", kResource), kNow, &created);
  ASSERT_TRUE(m.ok());
  for (const auto& [from, to] :
       {std::pair{S::kPlanned, S::kCutover}, std::pair{S::kPlanned, S::kDone},
        std::pair{S::kPlanned, S::kRolledBack}, std::pair{S::kPlanned, S::kObserving}}) {
    const absl::Status s = repo_->Transition(m->id, from, to, {}, kNow, "");
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition)
        << StateName(from) << " -> " << StateName(to) << ": " << s;
    EXPECT_TRUE(absl::StrContains(s.message(), StateName(to))) << s;
  }
  auto events = repo_->Events(m->id);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 1u) << "only the creation";
  auto now = repo_->Get(m->id);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->state, S::kPlanned);
  // Staying in an unfinished state is a step's recorded decision; a final state is left by nothing.
  ASSERT_TRUE(repo_->Transition(m->id, S::kPlanned, S::kPlanned, {}, kNow, "").ok());
  ASSERT_TRUE(repo_->Transition(m->id, S::kPlanned, S::kFailed, {}, kNow, "").ok());
  EXPECT_EQ(repo_->Transition(m->id, S::kFailed, S::kFailed, {}, kNow, "").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(MigrationRepositoryTest, LeasesGoToOneDriverAndToAnotherWhenTheyExpire) {
  bool created = false;
  auto m = repo_->Create(Planned("mig-1", kResource), kNow, &created);
  ASSERT_TRUE(m.ok());
  auto a = repo_->Claim("driver-a", absl::Seconds(1), 10);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ((*a)[0].lease_owner, "driver-a");
  auto b = repo_->Claim("driver-b", absl::Seconds(1), 10);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->empty()) << "held by driver-a";
  // Only the holder moves it.
  EXPECT_EQ(repo_->Transition(m->id, S::kPlanned, S::kPreparingTarget, {}, kNow, "driver-b").code(),
            absl::StatusCode::kAborted);
  // driver-a dies: after its lease expires, driver-b takes over and driver-a is fenced.
  absl::SleepFor(absl::Milliseconds(1200));
  auto taken = repo_->Claim("driver-b", absl::Seconds(30), 10);
  ASSERT_TRUE(taken.ok());
  ASSERT_EQ(taken->size(), 1u);
  EXPECT_EQ((*taken)[0].lease_owner, "driver-b");
  EXPECT_EQ(repo_->Transition(m->id, S::kPlanned, S::kPreparingTarget, {}, kNow, "driver-a").code(),
            absl::StatusCode::kAborted);
  ASSERT_TRUE(
      repo_->Transition(m->id, S::kPlanned, S::kPreparingTarget, {}, kNow, "driver-b").ok());
  // A clean stop gives the lease up at once.
  ASSERT_TRUE(repo_->Release(m->id, "driver-b").ok());
  auto c = repo_->Claim("driver-c", absl::Seconds(30), 10);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->size(), 1u);
  // Finished migrations are never claimed.
  ASSERT_TRUE(repo_->Transition(m->id, S::kPreparingTarget, S::kFailed, {}, kNow, "driver-c").ok());
  EXPECT_TRUE(repo_->Claim("driver-d", absl::Seconds(30), 10)->empty());
}

TEST_F(MigrationRepositoryTest, ListsFilterAndPage) {
  bool created = false;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto m = repo_->Create(Planned("mig-" + std::to_string(i), kResource), kNow + absl::Seconds(i),
                           &created);
    ASSERT_TRUE(m.ok()) << m.status();
    ids.push_back(m->id);
    ASSERT_TRUE(repo_->Transition(m->id, S::kPlanned, S::kFailed, {}, kNow, "").ok());
  }
  MigrationFilter page;
  page.page_size = 2;
  auto first = repo_->List(page);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].id, ids[0]);
  page.after = (*first)[1].id;
  auto rest = repo_->List(page);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].id, ids[2]);
  MigrationFilter by_state;
  by_state.state = "DONE";
  EXPECT_TRUE(repo_->List(by_state)->empty());
  MigrationFilter by_resource;
  by_resource.resource_id = kOther;
  EXPECT_TRUE(repo_->List(by_resource)->empty());
  page.after = "garbage";
  EXPECT_EQ(repo_->List(page).status().code(), absl::StatusCode::kInvalidArgument);

  // Many resources at once, by resource, oldest first, after the time given.
  auto of = repo_->OfResources({kResource, kOther, "garbage"}, kNow);
  ASSERT_TRUE(of.ok()) << of.status();
  ASSERT_EQ(of->size(), 1u) << "only resources with migrations";
  ASSERT_EQ(of->at(kResource).size(), 2u) << "the first was created at kNow, not after";
  EXPECT_EQ(of->at(kResource)[0].id, ids[1]);
  EXPECT_EQ(of->at(kResource)[1].id, ids[2]);
  EXPECT_TRUE(repo_->OfResources({"garbage"}, kNow)->empty());
  EXPECT_TRUE(repo_->OfResources({}, kNow)->empty());
}

TEST_F(MigrationRepositoryTest, ProgressRoundsAndObservationsAreKeptAndANewMoveEndsAnObservation) {
  bool created = false;
  auto m = repo_->Create(Planned("mig-obs", kResource), kNow, &created);
  ASSERT_TRUE(m.ok()) << m.status();
  MigrationProgress progress;
  progress.precopy_rounds = 2;
  progress.bytes_left = 4096;
  progress.freeze_seconds = 0.07;
  progress.switched_at = kNow + absl::Seconds(9);
  ASSERT_TRUE(repo_->SaveProgress(m->id, S::kPlanned, progress, kNow, "").ok());
  EXPECT_EQ(repo_->SaveProgress(m->id, S::kPrecopy, progress, kNow, "").code(),
            absl::StatusCode::kAborted)
      << "only in the state it was made in";
  ASSERT_TRUE(
      repo_->RecordRound(m->id, {1, "precopy", kNow, 3, 1 << 20, 1 << 20, 2, 512, 0.5}).ok());
  ASSERT_TRUE(
      repo_->RecordRound(m->id, {1, "precopy", kNow, 3, 1 << 20, 1 << 20, 1, 256, 0.4}).ok())
      << "a retried round replaces its row";
  auto rounds = repo_->Rounds(m->id);
  ASSERT_TRUE(rounds.ok());
  ASSERT_EQ(rounds->size(), 1u);
  EXPECT_EQ((*rounds)[0].dirty_bytes, 256);
  ASSERT_TRUE(repo_->RecordPredicted(m->id, {{"eu", kNow, 10.0, std::nullopt}}).ok());
  ASSERT_TRUE(repo_->RecordPredicted(m->id, {{"eu", kNow, 99.0, std::nullopt}}).ok());
  ASSERT_TRUE(repo_->RecordRealized(m->id, {{"eu", kNow, std::nullopt, 12.0}}).ok());
  auto observed = repo_->Observations(m->id);
  ASSERT_TRUE(observed.ok());
  ASSERT_EQ(observed->size(), 1u);
  EXPECT_EQ(*(*observed)[0].predicted_requests, 10.0) << "the forecast as it was first recorded";
  EXPECT_EQ(*(*observed)[0].realized_requests, 12.0);

  ASSERT_TRUE(repo_->Transition(m->id, S::kPlanned, S::kPreparingTarget, {}, kNow, "").ok());
  ASSERT_TRUE(repo_->Transition(m->id, S::kPreparingTarget, S::kPromoting, {}, kNow, "").ok());
  ASSERT_TRUE(repo_->Transition(m->id, S::kPromoting, S::kObserving, {}, kNow, "").ok());
  auto read = repo_->Get(m->id);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->progress.precopy_rounds, 2);
  EXPECT_EQ(*read->progress.bytes_left, 4096);
  EXPECT_DOUBLE_EQ(*read->progress.freeze_seconds, 0.07);
  EXPECT_EQ(*read->progress.switched_at, kNow + absl::Seconds(9));
  EXPECT_EQ(*read->state_entered_at, kNow);

  // OBSERVING does not hold the resource: a new move ends the observation and says so.
  auto next = repo_->Create(Planned("mig-next", kResource), kNow + absl::Minutes(1), &created);
  ASSERT_TRUE(next.ok()) << next.status();
  auto ended = repo_->Get(m->id);
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(ended->state, S::kDone);
  EXPECT_TRUE(absl::StrContains(ended->progress.observation_note, next->id))
      << ended->progress.observation_note;
  auto events = repo_->Events(m->id);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->back().to_state, "DONE");
  EXPECT_TRUE(absl::StrContains(events->back().detail_json, "observation_ended_early_by"));
  EXPECT_EQ(repo_->RequestCancel("00000000-0000-4000-8000-000000000000").code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace shadowplane::store
