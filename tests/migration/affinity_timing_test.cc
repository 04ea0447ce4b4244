// A planned move's client affinity and timing, over a real PostgreSQL with fake providers: what
// the move did to the resource's affine clients is counted once after the drain (from the
// instances' own records), and a move timed by the planner keeps pre-copying until its cutover
// time.
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "migration/migrator_fixture.h"

namespace shadowplane::migration {
namespace {

using store::MigrationState;

class AffinityTimingTest : public MigratorTest {
 protected:
  // Clients of "web" last seen `ago` before now.
  void SeeClients(const std::vector<std::string>& keys, absl::Duration ago) {
    std::vector<store::AffinityRow> rows;
    for (const std::string& key : keys) {
      rows.push_back(
          {reservation_.resource_id, key, reservation_.primary.id, "eu", clock_.Now() - ago});
    }
    ASSERT_TRUE(telemetry_->UpsertAffinity(rows).ok());
  }
};

TEST_F(AffinityTimingTest, AffineClientsDisruptionsAreCountedOnceByKind) {
  // Three clients seen within the 15 min session, one seen an hour ago (no longer affine).
  SeeClients({"id:a", "id:b", "id:c"}, absl::Minutes(5));
  SeeClients({"id:old"}, absl::Hours(1));
  // What the old primary recorded: a held and forwarded, b failed once, old forwarded (not
  // affine), new (never reported) closed; c untouched.
  providers::InstanceDisruptions source;
  source.clients = {{"id:a", 2, 0, 1, 0, 0},
                    {"id:b", 0, 1, 0, 0, 0},
                    {"id:old", 0, 0, 3, 0, 0},
                    {"id:new", 0, 0, 0, 1, 0},
                    {"id:c", 0, 0, 0, 0, 0}};
  compute_.SetDisruptions(reservation_.primary.id, source);
  providers::InstanceDisruptions target;
  target.clients = {{"id:a", 0, 0, 0, 0, 1}};  // a stale read seen at the other instance
  compute_.SetDisruptions(reservation_.shadow.id, target);

  sync_.ScriptDirtyBytes({1 * kMiB});
  auto m = MigrateTo("iad-1");
  ASSERT_TRUE(m.ok()) << m.status();
  absl::Status failed;
  Run(*m, &failed);
  ASSERT_TRUE(failed.ok()) << failed;
  ASSERT_EQ(m->state, MigrationState::kDone);

  auto details = manager_->Get(m->id);
  ASSERT_TRUE(details.ok()) << details.status();
  ASSERT_TRUE(details->disruptions.has_value());
  const store::DisruptionRecord& d = *details->disruptions;
  EXPECT_EQ(d.affine_clients, 3);
  EXPECT_EQ(d.disrupted_affine_clients, 2) << "a and b";
  EXPECT_EQ(d.disrupted_other_clients, 2) << "old (seen too long ago) and new (never seen)";
  EXPECT_EQ(d.held_requests, 2);
  EXPECT_EQ(d.failed_requests, 1);
  EXPECT_EQ(d.forwarded_requests, 1);
  EXPECT_EQ(d.closed_connections, 0);
  EXPECT_EQ(d.stale_reads, 1);
  EXPECT_FALSE(d.truncated);
  EXPECT_TRUE(d.error.empty()) << d.error;

  // Counted once: measuring again changes nothing.
  source.clients.push_back({"id:c", 9, 0, 0, 0, 0});
  compute_.SetDisruptions(reservation_.primary.id, source);
  auto done = migrations_->Get(m->id);
  ASSERT_TRUE(done.ok());
  auto instances = reservations_->Instances(reservation_.resource_id);
  ASSERT_TRUE(instances.ok());
  ASSERT_TRUE(disruptions_->Measure(*done, *instances, clock_.Now()).ok());
  auto again = manager_->Get(m->id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->disruptions->held_requests, 2);
}

TEST_F(AffinityTimingTest, AnInstanceThatCannotBeAskedIsNamedAndTheMoveGoesOn) {
  SeeClients({"id:a"}, absl::Minutes(1));
  providers::InstanceDisruptions target;
  target.clients = {{"id:a", 1, 0, 0, 0, 0}};
  compute_.SetDisruptions(reservation_.shadow.id, target);
  sync_.ScriptDirtyBytes({1 * kMiB});
  auto m = MigrateTo("iad-1");
  ASSERT_TRUE(m.ok()) << m.status();
  absl::Status failed;
  // Step to RETIRING_SOURCE, then cut the old primary's location off for the count.
  for (int i = 0; i < 50 && m->state != MigrationState::kRetiringSource; ++i) {
    auto step = migrator_->Step(*m, "");
    ASSERT_TRUE(step.ok()) << step.status();
    *m = step->migration;
    clock_.Advance(step->wait);
  }
  ASSERT_EQ(m->state, MigrationState::kRetiringSource);
  // Past the drain period.
  clock_.Advance(absl::Minutes(10));
  {
    auto instances = reservations_->Instances(reservation_.resource_id);
    ASSERT_TRUE(instances.ok());
    compute_.FailAt("fra-1", absl::UnavailableError("fra-1 is unreachable"));
    auto fresh = migrations_->Get(m->id);
    ASSERT_TRUE(fresh.ok());
    ASSERT_TRUE(disruptions_->Measure(*fresh, *instances, clock_.Now()).ok());
    compute_.FailAt("fra-1", absl::OkStatus());
  }
  auto details = manager_->Get(m->id);
  ASSERT_TRUE(details.ok());
  ASSERT_TRUE(details->disruptions.has_value());
  EXPECT_EQ(details->disruptions->disrupted_affine_clients, 1);
  EXPECT_EQ(details->disruptions->held_requests, 1);
  EXPECT_TRUE(absl::StrContains(details->disruptions->error, "fra-1 is unreachable"))
      << details->disruptions->error;
  Run(*m, &failed);
  ASSERT_TRUE(failed.ok()) << failed;
  EXPECT_EQ(m->state, MigrationState::kDone);
}

TEST_F(AffinityTimingTest, ATimedMoveKeepsPrecopyingUntilItsCutoverTime) {
  options_.precopy_hold_interval = absl::Minutes(10);
  Build();
  sync_.ScriptDirtyBytes({1 * kMiB});  // converged at once
  MigrateSpec spec;
  spec.request_id = "timed-1";
  spec.reservation_id = reservation_.id;
  spec.target_location = "iad-1";
  spec.reason = "timed";
  const absl::Time cutover_after = clock_.Now() + absl::Hours(2);
  spec.cutover_after = cutover_after;
  auto m = manager_->Migrate(spec);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(m->cutover_after.has_value());
  EXPECT_EQ(*m->cutover_after, cutover_after);
  absl::Status failed;
  Run(*m, &failed);
  ASSERT_TRUE(failed.ok()) << failed;
  EXPECT_EQ(m->state, MigrationState::kDone);
  ASSERT_TRUE(m->progress.freeze_started_at.has_value());
  EXPECT_GE(*m->progress.freeze_started_at, cutover_after) << "not before its time";
  EXPECT_LT(*m->progress.freeze_started_at, cutover_after + absl::Minutes(11));
  // A round every 10 minutes while it waited (the first one converged at once).
  EXPECT_GE(Rounds(shadow::SyncTrigger::kFull), 12);
}

TEST_F(AffinityTimingTest, AnUntimedMoveCutsOverOnceReady) {
  sync_.ScriptDirtyBytes({1 * kMiB});
  auto m = MigrateTo("iad-1");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(m->cutover_after.has_value());
  const absl::Time started = clock_.Now();
  absl::Status failed;
  Run(*m, &failed);
  ASSERT_TRUE(failed.ok()) << failed;
  EXPECT_EQ(Rounds(shadow::SyncTrigger::kFull), 1);
  EXPECT_LT(*m->progress.freeze_started_at - started, absl::Minutes(10));
}

// An agent's report is a peer's: counts out of range, overlong or empty keys and too many
// clients are cut, and the report says it was.
TEST(DisruptionBoundsTest, APeersReportIsBoundedAndSaysSo) {
  providers::InstanceDisruptions hostile;
  hostile.clients = {{"id:a", -5, 1, 0, 0, 0},
                     {"id:b", INT64_MAX, 0, 0, 0, 0},
                     {std::string(kMaxClientKeyBytes + 1, 'x'), 1, 0, 0, 0, 0},
                     {"", 1, 0, 0, 0, 0}};
  const providers::InstanceDisruptions b = Bounded(hostile);
  EXPECT_TRUE(b.truncated);
  ASSERT_EQ(b.clients.size(), 2u);
  EXPECT_EQ(b.clients[0].held, 0);
  EXPECT_EQ(b.clients[1].held, kMaxClientEvents);
  // Summed over every client the agent may send, nothing overflows.
  providers::InstanceDisruptions many;
  for (size_t i = 0; i < kMaxReportedClients + 5; ++i) {
    many.clients.push_back(
        {absl::StrCat("id:c", i), INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX});
  }
  const providers::InstanceDisruptions capped = Bounded(many);
  EXPECT_TRUE(capped.truncated);
  EXPECT_EQ(capped.clients.size(), kMaxReportedClients);
  std::set<std::string> affine;
  for (const auto& c : capped.clients) affine.insert(c.client);
  const store::DisruptionRecord r = TallyDisruptions({capped, capped}, affine, 1);
  EXPECT_EQ(r.held_requests, 2 * static_cast<int64_t>(kMaxReportedClients) * kMaxClientEvents);
  EXPECT_EQ(r.disrupted_affine_clients, static_cast<int64_t>(kMaxReportedClients));
  EXPECT_TRUE(r.truncated);
  // An honest report passes untouched.
  providers::InstanceDisruptions honest;
  honest.clients = {{"id:a", 2, 0, 1, 0, 0}};
  const providers::InstanceDisruptions same = Bounded(honest);
  EXPECT_FALSE(same.truncated);
  ASSERT_EQ(same.clients.size(), 1u);
  EXPECT_EQ(same.clients[0].held, 2);
}

}  // namespace
}  // namespace shadowplane::migration
