// The Migrator's steps in process, over a real PostgreSQL (label pg) with fake compute and traffic
// providers and a scripted shadow sync (tests/support): a planned move runs every state in order
// and leaves the roles, the instances and the traffic where they belong; pre-copy stops at the
// dirty threshold or the round cap; a failed final round rolls back to the source as it was; a
// request the manager cannot take is refused with its reason.
#include "migration/migrator.h"

#include "absl/strings/match.h"
#include "migration/migrator_fixture.h"
#include "migration/primary_loss_detector.h"

namespace shadowplane::migration {
namespace {

using store::MigrationState;

std::vector<std::string> Names(std::initializer_list<MigrationState> states) {
  std::vector<std::string> out;
  for (MigrationState s : states) out.push_back(store::StateName(s));
  return out;
}

TEST_F(MigratorTest, APlannedMoveRunsEveryStateAndLeavesRolesInstancesAndTrafficInPlace) {
  sync_.ScriptDirtyBytes({64 * kMiB, 32 * kMiB, 1 * kMiB});
  auto m = MigrateTo("iad-1");
  ASSERT_TRUE(m.ok()) << m.status();
  absl::Status failed;
  const std::vector<std::string> states = Run(*m, &failed);
  ASSERT_TRUE(failed.ok()) << failed;
  EXPECT_EQ(states, Names({MigrationState::kPlanned, MigrationState::kPreparingTarget,
                           MigrationState::kPrecopy, MigrationState::kCutover,
                           MigrationState::kRetiringSource, MigrationState::kObserving,
                           MigrationState::kDone}));
  EXPECT_GE(clock_.Now() - m->created_at, absl::Hours(1)) << "observed for the window";
  EXPECT_EQ(Rounds(shadow::SyncTrigger::kFull), 3) << "until a round left under 8 MiB";
  EXPECT_EQ(Rounds(shadow::SyncTrigger::kFinal), 1);
  for (const auto& round : sync_.rounds()) {
    EXPECT_EQ(round.target_instance_id, reservation_.shadow.id) << "the shadow is the target";
  }
  auto rounds = migrations_->Rounds(m->id);
  ASSERT_TRUE(rounds.ok());
  EXPECT_EQ(rounds->size(), 4u) << "three pre-copy rounds and the final one, recorded";

  // The old shadow is the primary at full capacity and writable; the old primary stays as the
  // (diverse) shadow: read-only, shrunk, no longer holding or forwarding writes.
  auto after = placements_->Get(reservation_.id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->primary.id, reservation_.shadow.id);
  EXPECT_EQ(after->primary.location, "iad-1");
  EXPECT_EQ(after->shadow.id, reservation_.primary.id);
  const auto instances = compute_.instances();
  const providers::InstanceInfo& primary = instances.at(reservation_.shadow.id);
  const providers::InstanceInfo& shadow = instances.at(reservation_.primary.id);
  EXPECT_FALSE(primary.read_only);
  EXPECT_EQ(primary.capacity.millicores, 500);
  EXPECT_TRUE(shadow.read_only);
  EXPECT_LT(shadow.capacity.millicores, 500);
  EXPECT_FALSE(shadow.hold_writes);
  EXPECT_TRUE(shadow.forward_writes_to.empty()) << "forwarding ends with the drain";
  EXPECT_EQ(traffic_.services().at(reservation_.service_name).ToString(), primary.endpoint);
  ASSERT_TRUE(m->progress.freeze_seconds.has_value());
  EXPECT_GE(*m->progress.freeze_seconds, 0);
}

TEST_F(MigratorTest, PrecopyStopsAtTheRoundCapAndAFailedFinalRoundRollsBackToTheSource) {
  options_.max_precopy_rounds = 3;
  Build();
  sync_.ScriptDirtyBytes({512 * kMiB});  // never settles
  sync_.FailFinalRounds(absl::DataLossError("target tree hash differs"));
  auto m = MigrateTo("iad-1");
  ASSERT_TRUE(m.ok()) << m.status();
  absl::Status failed;
  std::vector<std::string> states = Run(*m, &failed);
  EXPECT_EQ(states.back(), store::StateName(MigrationState::kCutover));
  EXPECT_EQ(failed.code(), absl::StatusCode::kDataLoss) << failed;
  EXPECT_EQ(Rounds(shadow::SyncTrigger::kFull), 3) << "the cap, though a lot was left";
  {
    // Inside the failed cutover the source was frozen, then unfrozen again.
    const providers::InstanceInfo source = compute_.instances().at(reservation_.primary.id);
    EXPECT_FALSE(source.read_only);
    EXPECT_FALSE(source.hold_writes);
  }
  // The driver gives up on a permanent error: back to the source.
  ASSERT_TRUE(migrator_->GiveUp(*m, failed, "").ok());
  auto now = migrations_->Get(m->id);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->state, MigrationState::kRollingBack);
  states = Run(*now, &failed);
  EXPECT_EQ(states.back(), store::StateName(MigrationState::kRolledBack)) << failed;
  EXPECT_TRUE(absl::StrContains(now->error, "tree hash")) << now->error;

  auto after = placements_->Get(reservation_.id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->primary.id, reservation_.primary.id) << "nothing moved";
  const auto instances = compute_.instances();
  EXPECT_FALSE(instances.at(reservation_.primary.id).read_only);
  EXPECT_TRUE(instances.at(reservation_.primary.id).forward_writes_to.empty());
  EXPECT_TRUE(instances.at(reservation_.shadow.id).read_only) << "the target is a shadow again";
  EXPECT_LT(instances.at(reservation_.shadow.id).capacity.millicores, 500) << "scaled back";
  EXPECT_EQ(traffic_.services().at(reservation_.service_name).ToString(),
            instances.at(reservation_.primary.id).endpoint);
}

TEST_F(MigratorTest, AnEmergencyPromotesTheShadowWithoutTheSourceAndFencesItWhenItAnswers) {
  compute_.FailAt("fra-1", absl::UnavailableError("location lost"));
  clock_.Advance(absl::Minutes(3));  // since the shadow was last in sync (created, here)
  MigrateSpec spec;
  spec.request_id = "emergency-1";
  spec.reservation_id = reservation_.id;
  spec.kind = "emergency";
  spec.reason = "fra-1 is down";
  const absl::Status healthy = manager_->Migrate(spec).status();
  EXPECT_EQ(healthy.code(), absl::StatusCode::kFailedPrecondition) << healthy;
  EXPECT_TRUE(absl::StrContains(healthy.message(), "write lease")) << healthy;
  ASSERT_TRUE(ExpireWriteLease(reservation_.primary.id).ok());
  auto m = manager_->Migrate(spec);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(fencing_->leases.Lease(reservation_.primary.id)->primary_epoch, 1)
      << "not yet promoted";
  absl::Status failed;
  const std::vector<std::string> states = Run(*m, &failed);
  ASSERT_TRUE(failed.ok()) << failed;
  EXPECT_EQ(states,
            Names({MigrationState::kPlanned, MigrationState::kPreparingTarget,
                   MigrationState::kPromoting, MigrationState::kObserving, MigrationState::kDone}))
      << "no pre-copy, no cutover";
  EXPECT_TRUE(sync_.rounds().empty()) << "no round from a lost source";
  ASSERT_TRUE(m->progress.loss_window_seconds.has_value());
  EXPECT_GE(*m->progress.loss_window_seconds, 180) << "the shadow's staleness";
  auto after = placements_->Get(reservation_.id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->primary.id, reservation_.shadow.id);
  EXPECT_EQ(fencing_->leases.Lease(after->primary.id)->primary_epoch, 2)
      << "the promotion moved the epoch on";
  const auto instances = compute_.instances();
  EXPECT_FALSE(instances.at(reservation_.shadow.id).read_only);
  EXPECT_EQ(instances.at(reservation_.shadow.id).epoch, 2);
  EXPECT_EQ(traffic_.services().at(reservation_.service_name).ToString(),
            instances.at(reservation_.shadow.id).endpoint);
  // The provider could not reach the old primary to fence it; the record says read-only.
  EXPECT_FALSE(instances.at(reservation_.primary.id).read_only) << "unreachable, untouched";
  auto recorded = reservations_->Instances(reservation_.resource_id);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  bool seen = false;
  for (const store::InstanceRecord& i : *recorded) {
    if (i.id != reservation_.primary.id) continue;
    seen = true;
    EXPECT_TRUE(i.read_only) << "fenced in the record, for the reconcile loop to enforce";
  }
  EXPECT_TRUE(seen);
}

// A forced emergency on a primary that still holds its lease and cannot be reached to fence it:
// the promotion waits the lease out, so the two never take writes at the same time.
TEST_F(MigratorTest, AForcedEmergencyWaitsOutTheUnreachablePrimarysLeaseBeforePromoting) {
  compute_.FailAt("fra-1", absl::UnavailableError("partitioned"));
  MigrateSpec spec;
  spec.request_id = "emergency-forced";
  spec.reservation_id = reservation_.id;
  spec.kind = "emergency";
  spec.force = true;
  spec.reason = "operator";
  auto m = manager_->Migrate(spec);
  ASSERT_TRUE(m.ok()) << m.status();
  absl::Duration waited;
  for (int i = 0; i < 20 && m->state != MigrationState::kPromoting; ++i) {
    auto step = migrator_->Step(*m, "");
    ASSERT_TRUE(step.ok()) << step.status();
    m = step->migration;
  }
  ASSERT_EQ(m->state, MigrationState::kPromoting);
  auto step = migrator_->Step(*m, "");
  ASSERT_TRUE(step.ok()) << step.status();
  waited = step->wait;
  EXPECT_GT(waited, absl::Seconds(5)) << "the rest of a 10 s lease";
  EXPECT_LE(waited, absl::Seconds(11));
  EXPECT_EQ(step->migration.state, MigrationState::kPromoting);
  EXPECT_TRUE(compute_.instances().at(reservation_.shadow.id).read_only) << "not before the lease";
  EXPECT_EQ(fencing_->leases.Lease(reservation_.primary.id)->primary_epoch, 1);
  ASSERT_TRUE(ExpireWriteLease(reservation_.primary.id).ok());  // the lease has run out
  store::MigrationRecord rest = step->migration;
  absl::Status failed;
  Run(rest, &failed);
  ASSERT_TRUE(failed.ok()) << failed;
  EXPECT_EQ(rest.state, MigrationState::kDone);
  EXPECT_FALSE(compute_.instances().at(reservation_.shadow.id).read_only);
  EXPECT_EQ(fencing_->leases.Lease(reservation_.primary.id)->primary_epoch, 2);
}

// The primary loss detector: a primary is failed over only once its lease went unrenewed for the
// timeout and ran out, once per primary and epoch, and the probes name the cause.
TEST_F(MigratorTest, ALostPrimaryIsFailedOverOnceAfterItsLeaseRanOut) {
  ASSERT_TRUE(RecordShadowRound().ok());
  PrimaryLossOptions options;
  options.loss_timeout = absl::Hours(1);
  options.probe_timeout = absl::Milliseconds(200);
  prometheus::Registry registry;
  PrimaryLossDetector patient(&fencing_->leases, reservations_.get(), &compute_, manager_.get(),
                              options, nullptr);
  auto started = patient.RunOnce();
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(*started, 0) << "renewed a moment ago";

  compute_.FailAt("fra-1", absl::UnavailableError("location lost"));
  options.loss_timeout = absl::ZeroDuration();
  PrimaryLossDetector detector(&fencing_->leases, reservations_.get(), &compute_, manager_.get(),
                               options, &registry);
  started = detector.RunOnce();
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(*started, 0) << "its lease still holds: it may still be taking writes";

  ASSERT_TRUE(ExpireWriteLease(reservation_.primary.id).ok());
  options.auto_failover = false;
  prometheus::Registry reported;
  PrimaryLossDetector reporter(&fencing_->leases, reservations_.get(), &compute_, manager_.get(),
                               options, &reported);
  for (int pass = 0; pass < 3; ++pass) {
    started = reporter.RunOnce();
    ASSERT_TRUE(started.ok());
    EXPECT_EQ(*started, 0) << "auto failover off: reported only";
  }
  EXPECT_TRUE(manager_->List(store::MigrationFilter{})->empty());
  double losses = 0, blocks = 0;
  for (const auto& family : reported.Collect()) {
    for (const auto& metric : family.metric) {
      if (family.name == "shadowplane_primary_losses_total") losses += metric.counter.value;
      if (family.name == "shadowplane_failovers_blocked_total") blocks += metric.counter.value;
    }
  }
  EXPECT_EQ(losses, 1) << "a loss is counted once, however many passes see it";
  EXPECT_EQ(blocks, 3) << "a block on every pass";

  started = detector.RunOnce();
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(*started, 1);
  started = detector.RunOnce();
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(*started, 0) << "failing over already";
  auto listed = manager_->List(store::MigrationFilter{});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  store::MigrationRecord m = listed->front();
  EXPECT_EQ(m.request_id, absl::StrCat("failover-", reservation_.primary.id, "-1"));
  EXPECT_EQ(m.kind, "emergency");
  EXPECT_TRUE(absl::StrContains(m.reason, "location_lost")) << m.reason;
  bool counted = false;
  for (const auto& family : registry.Collect()) {
    if (family.name != "shadowplane_failovers_started_total") continue;
    for (const auto& metric : family.metric) {
      counted |= metric.label[0].value == "location_lost" && metric.counter.value == 1;
    }
  }
  EXPECT_TRUE(counted);

  absl::Status failed;
  Run(m, &failed);
  ASSERT_TRUE(failed.ok()) << failed;
  EXPECT_EQ(m.state, MigrationState::kDone);
  EXPECT_EQ(placements_->Get(reservation_.id)->primary.id, reservation_.shadow.id);
  started = detector.RunOnce();
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(*started, 0) << "the new primary holds the lease its promotion granted";
}

// A failover that ended without promoting (the driver gave up on it and rolled it back) is
// followed by another attempt on the next pass.
TEST_F(MigratorTest, AFailoverThatEndedWithoutPromotingIsFollowedByAnotherAttempt) {
  ASSERT_TRUE(RecordShadowRound().ok());
  PrimaryLossOptions options;
  options.loss_timeout = absl::ZeroDuration();
  options.probe_timeout = absl::Milliseconds(200);
  PrimaryLossDetector detector(&fencing_->leases, reservations_.get(), &compute_, manager_.get(),
                               options, nullptr);
  compute_.FailAt("fra-1", absl::UnavailableError("location lost"));
  ASSERT_TRUE(ExpireWriteLease(reservation_.primary.id).ok());
  auto started = detector.RunOnce();
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_EQ(*started, 1);
  auto listed = manager_->List(store::MigrationFilter{});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  store::MigrationRecord first = listed->front();
  // The shadow's agent does not answer either: the driver gives up (after its step deadline)
  // and rolls the attempt back, without waiting for the lost source.
  compute_.FailAt(reservation_.shadow.location, absl::UnavailableError("agent gone"));
  absl::Status failed;
  Run(first, &failed);
  ASSERT_FALSE(failed.ok());
  ASSERT_TRUE(migrator_->GiveUp(first, failed, "").ok());
  compute_.FailAt(reservation_.shadow.location, absl::OkStatus());
  first = *migrations_->Get(first.id);
  Run(first, &failed);
  ASSERT_EQ(first.state, MigrationState::kRolledBack) << failed;
  started = detector.RunOnce();
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(*started, 1) << "another attempt";
  listed = manager_->List(store::MigrationFilter{});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  store::MigrationRecord second = listed->front().id == first.id ? listed->back() : listed->front();
  EXPECT_NE(second.request_id, first.request_id);
  EXPECT_TRUE(
      absl::StartsWith(second.request_id, absl::StrCat("failover-", reservation_.primary.id, "-")))
      << second.request_id;
  started = detector.RunOnce();
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(*started, 0) << "failing over already";
  Run(second, &failed);
  EXPECT_EQ(second.state, MigrationState::kDone) << failed;
  EXPECT_EQ(placements_->Get(reservation_.id)->primary.id, reservation_.shadow.id);
}

// A shadow that never completed a round holds the seed only: its lost primary is reported, not
// failed over by itself, until a round has run (a person may still force the promotion).
TEST_F(MigratorTest, AShadowThatNeverSyncedIsNotPromotedByItself) {
  PrimaryLossOptions options;
  options.loss_timeout = absl::ZeroDuration();
  options.probe_timeout = absl::Milliseconds(200);
  prometheus::Registry registry;
  PrimaryLossDetector detector(&fencing_->leases, reservations_.get(), &compute_, manager_.get(),
                               options, &registry);
  compute_.FailAt("fra-1", absl::UnavailableError("location lost"));
  ASSERT_TRUE(ExpireWriteLease(reservation_.primary.id).ok());
  auto started = detector.RunOnce();
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(*started, 0);
  EXPECT_TRUE(manager_->List(store::MigrationFilter{})->empty());
  bool blocked = false;
  for (const auto& family : registry.Collect()) {
    if (family.name != "shadowplane_failovers_blocked_total") continue;
    for (const auto& metric : family.metric) {
      blocked |= metric.label[0].value == "shadow_never_synced" && metric.counter.value == 1;
    }
  }
  EXPECT_TRUE(blocked);
  ASSERT_TRUE(RecordShadowRound().ok());
  started = detector.RunOnce();
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(*started, 1) << "after a round, it fails over";
}

TEST_F(MigratorTest, RequestsTheManagerCannotTakeAreRefusedWithTheirReason) {
  MigrateSpec spec;
  spec.request_id = "bad-1";
  spec.reservation_id = "bbbbbbbb-0000-4000-8000-00000000ffff";
  spec.target_location = "iad-1";
  EXPECT_EQ(manager_->Migrate(spec).status().code(), absl::StatusCode::kNotFound);
  spec.reservation_id = reservation_.id;
  spec.target_location = "atlantis-1";
  const absl::Status unknown = manager_->Migrate(spec).status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound) << unknown;
  spec.target_location = "fra-1";
  const absl::Status same = manager_->Migrate(spec).status();
  EXPECT_EQ(same.code(), absl::StatusCode::kInvalidArgument) << same;
  EXPECT_TRUE(absl::StartsWith(same.message(), "target_location")) << same;
  spec.target_location = "iad-1";
  spec.kind = "sideways";
  const absl::Status kind = manager_->Migrate(spec).status();
  EXPECT_EQ(kind.code(), absl::StatusCode::kInvalidArgument) << kind;
  auto listed = manager_->List(store::MigrationFilter{});
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty()) << "nothing recorded for a refused request";
}

}  // namespace
}  // namespace shadowplane::migration
