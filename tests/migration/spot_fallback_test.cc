// Spot interruptions in process (src/migration/spot_fallback.h), over a real PostgreSQL with fake
// compute and traffic providers, the domain clock and the providers' real-time deadline both fake:
// a fallback to on-demand at the same location within the warning; to the next location without
// on-demand room there; a warning that runs out first promotes the shadow with its loss window;
// a migration under way is rolled back first before its switch and finishes first after it; bad
// reports are refused with the field named.
#include "migration/spot_fallback.h"

#include "absl/strings/match.h"
#include "migration/migrator_fixture.h"
#include "store/decision_repository.h"
#include "store/price_repository.h"
#include "store/spot_repository.h"

namespace shadowplane::migration {
namespace {

using store::MigrationState;

class SpotFallbackTest : public MigratorTest {
 protected:
  SpotFallbackTest() { capacity_type_ = CapacityType::kSpot; }

  // Spot at a third of on-demand's price in both locations, likely to stay.
  void BeforeReserve() override {
    Sql("UPDATE locations SET spot_price_per_vcpu_hour = 0.013, spot_price_per_gib_hour = 0.0017, "
        "spot_availability = 0.95");
  }

  void Sql(const std::string& statement) {
    ASSERT_TRUE(pool_
                    ->Run("changing the catalog",
                          [&](pqxx::connection& conn) -> absl::Status {
                            pqxx::work txn(conn);
                            txn.exec(statement);
                            txn.commit();
                            return absl::OkStatus();
                          })
                    .ok());
  }

  void SetUp() override {
    MigratorTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_EQ(reservation_.primary.capacity.type, CapacityType::kSpot);
    spot_repository_ = std::make_unique<store::SpotRepository>(pool_.get());
    prices_ = std::make_unique<store::PriceRepository>(pool_.get());
    decisions_ = std::make_unique<store::DecisionRepository>(pool_.get());
    SpotFallback::Sources s;
    s.spot = spot_repository_.get();
    s.reservations = reservations_.get();
    s.locations = locations_.get();
    s.prices = prices_.get();
    s.migrations = migrations_.get();
    s.decisions = decisions_.get();
    s.manager = manager_.get();
    s.replace_shadow = [this](const std::string& id) {
      return placements_->ReplaceShadowNow(id, "spot_interrupted");
    };
    s.clock = &clock_;
    s.deadline_clock = &real_;
    s.metrics = &registry_;
    fallback_ = std::make_unique<SpotFallback>(s, SpotFallbackOptions());
  }

  absl::StatusOr<store::SpotInterruptionRecord> Interrupt(const std::string& location,
                                                          absl::Duration warning = absl::Minutes(2),
                                                          std::vector<std::string> ids = {}) {
    InterruptionNotice notice;
    notice.location = location;
    notice.instance_ids = std::move(ids);
    notice.deadline = real_.Now() + warning;
    return fallback_->Report(notice);
  }

  const store::SpotFallbackRecord* PrimaryOf(const store::SpotInterruptionRecord& r) {
    for (const auto& f : r.fallbacks) {
      if (f.instance_id == reservation_.primary.id) return &f;
    }
    return nullptr;
  }

  store::SpotFallbackRecord Reread(const std::string& interruption_id,
                                   const std::string& instance_id) {
    auto r = spot_repository_->Get(interruption_id);
    EXPECT_TRUE(r.ok()) << r.status();
    for (const auto& f : r->fallbacks) {
      if (f.instance_id == instance_id) return f;
    }
    ADD_FAILURE() << "no fallback for " << instance_id;
    return {};
  }

  // Runs the fallback's migration to its end on the fake clock, then reconciles.
  store::MigrationRecord RunFallback(const std::string& migration_id) {
    auto m = migrations_->Get(migration_id);
    EXPECT_TRUE(m.ok()) << m.status();
    absl::Status failed;
    Run(*m, &failed);
    EXPECT_TRUE(failed.ok()) << failed;
    EXPECT_TRUE(fallback_->ReconcileOnce().ok());
    return *m;
  }

  FakeClock real_{absl::FromUnixSeconds(1796558400)};
  prometheus::Registry registry_;
  std::unique_ptr<store::SpotRepository> spot_repository_;
  std::unique_ptr<store::PriceRepository> prices_;
  std::unique_ptr<store::DecisionRepository> decisions_;
  std::unique_ptr<SpotFallback> fallback_;
};

TEST_F(SpotFallbackTest, AnInterruptionFallsBackToOnDemandAtTheSameLocationWithinTheWarning) {
  ASSERT_TRUE(RecordShadowRound().ok());
  auto interruption = Interrupt("fra-1");
  ASSERT_TRUE(interruption.ok()) << interruption.status();
  ASSERT_EQ(interruption->fallbacks.size(), 1u) << "the shadow in iad-1 is not touched";
  const store::SpotFallbackRecord* f = PrimaryOf(*interruption);
  ASSERT_NE(f, nullptr);
  ASSERT_FALSE(f->migration_id.empty()) << f->detail;
  auto m = migrations_->Get(f->migration_id);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->urgent);
  EXPECT_EQ(m->kind, "planned");
  EXPECT_EQ(m->target_location, "fra-1");
  EXPECT_EQ(m->target_capacity_type, "on_demand");

  const absl::Time warned = clock_.Now();
  const store::MigrationRecord done = RunFallback(f->migration_id);
  EXPECT_EQ(done.state, MigrationState::kDone);
  const store::SpotFallbackRecord after = Reread(interruption->id, f->instance_id);
  EXPECT_EQ(after.state, "finished");
  EXPECT_EQ(after.outcome, "on_demand_same_location") << after.detail;
  ASSERT_TRUE(after.traffic_at.has_value());
  EXPECT_LT(*after.traffic_at - warned, absl::Minutes(2)) << "traffic moved within the warning";
  EXPECT_EQ(Rounds(shadow::SyncTrigger::kFull), 1) << "an urgent move does one pre-copy round";

  auto r = placements_->Get(reservation_.id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->primary.location, "fra-1");
  EXPECT_EQ(r->primary.capacity.type, CapacityType::kOnDemand);
  EXPECT_NE(r->primary.id, reservation_.primary.id);
  EXPECT_EQ(r->shadow.id, reservation_.shadow.id) << "the diverse shadow stays";

  // The fallback is a decision, and spot at fra-1 counts as gone until offered again.
  store::DecisionFilter filter;
  filter.outcome = "fallback";
  auto decisions = decisions_->List(filter);
  ASSERT_TRUE(decisions.ok());
  ASSERT_EQ(decisions->size(), 1u);
  EXPECT_EQ((*decisions)[0].to_capacity_type, "on_demand");
  EXPECT_TRUE(absl::StrContains((*decisions)[0].reason, "on-demand at the same location"));
  EXPECT_TRUE(absl::StrContains((*decisions)[0].reason, f->migration_id));
  // It counts in the fleet's hourly budget of planned moves, though it ran whatever the budget.
  EXPECT_EQ(*decisions_->PlannedMovesSince(warned - absl::Minutes(1)), 1);
  auto history = prices_->History("fra-1");
  ASSERT_TRUE(history.ok());
  ASSERT_FALSE(history->observations.empty());
  EXPECT_EQ(history->observations.back().spot_availability, 0.0);
  EXPECT_FALSE(history->spot_available_since.has_value());
}

TEST_F(SpotFallbackTest, WithoutOnDemandRoomThereTheFallbackMovesToTheNextLocation) {
  Sql("UPDATE locations SET capacity_millicores = 600 WHERE name = 'fra-1'");
  auto interruption = Interrupt("fra-1");
  ASSERT_TRUE(interruption.ok()) << interruption.status();
  const store::SpotFallbackRecord* f = PrimaryOf(*interruption);
  ASSERT_NE(f, nullptr);
  ASSERT_FALSE(f->migration_id.empty()) << f->detail;
  EXPECT_TRUE(absl::StrContains(f->detail, "no on-demand room at fra-1")) << f->detail;
  RunFallback(f->migration_id);
  const store::SpotFallbackRecord after = Reread(interruption->id, f->instance_id);
  EXPECT_EQ(after.outcome, "other_location") << after.detail;
  auto r = placements_->Get(reservation_.id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->primary.location, "iad-1");
  EXPECT_EQ(r->primary.capacity.type, CapacityType::kOnDemand);
}

TEST_F(SpotFallbackTest, AWarningThatRunsOutPromotesTheShadowAndRecordsTheLossWindow) {
  ASSERT_TRUE(RecordShadowRound().ok());
  clock_.Advance(absl::Seconds(40));  // writes since the shadow's last round are lost
  auto interruption = Interrupt("fra-1");
  ASSERT_TRUE(interruption.ok());
  const store::SpotFallbackRecord* f = PrimaryOf(*interruption);
  ASSERT_NE(f, nullptr);
  const std::string first = f->migration_id;
  ASSERT_FALSE(first.empty());
  // The capacity goes before the fallback switched traffic: it is cancelled and rolled back,
  // then the shadow is promoted.
  real_.Advance(absl::Minutes(3));
  ASSERT_TRUE(fallback_->ReconcileOnce().ok());
  auto cancelled = migrations_->Get(first);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_TRUE(cancelled->cancel_requested);
  Run(*cancelled);
  EXPECT_EQ(cancelled->state, MigrationState::kRolledBack);
  ASSERT_TRUE(fallback_->ReconcileOnce().ok());
  store::SpotFallbackRecord now = Reread(interruption->id, f->instance_id);
  ASSERT_NE(now.migration_id, first);
  auto promotion = migrations_->Get(now.migration_id);
  ASSERT_TRUE(promotion.ok());
  EXPECT_EQ(promotion->kind, "emergency");
  const store::MigrationRecord done = RunFallback(now.migration_id);
  ASSERT_TRUE(done.progress.loss_window_seconds.has_value());
  EXPECT_GE(*done.progress.loss_window_seconds, 40) << "the shadow's staleness";
  now = Reread(interruption->id, f->instance_id);
  EXPECT_EQ(now.outcome, "promoted_after_deadline") << now.detail;
  auto r = placements_->Get(reservation_.id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->primary.id, reservation_.shadow.id) << "the shadow was promoted with its data";

  // A deadline already past when the report arrives: lost at once, and the reply says so.
  auto late = Interrupt("iad-1", -absl::Seconds(5));
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_LE(late->deadline, real_.Now());
}

TEST_F(SpotFallbackTest, AMigrationBeforeItsSwitchIsRolledBackFirstAndOneAfterItFinishesFirst) {
  // Before the switch: pre-copy into iad-1 is under way.
  sync_.ScriptDirtyBytes({64 * kMiB, 64 * kMiB, 64 * kMiB});
  auto planned = MigrateTo("iad-1");
  ASSERT_TRUE(planned.ok());
  store::MigrationRecord m = *planned;
  for (int i = 0; i < 20 && m.state != MigrationState::kPrecopy; ++i) {
    auto step = migrator_->Step(m, "");
    ASSERT_TRUE(step.ok()) << step.status();
    m = step->migration;
  }
  ASSERT_EQ(m.state, MigrationState::kPrecopy);
  auto interruption = Interrupt("fra-1");
  ASSERT_TRUE(interruption.ok());
  store::SpotFallbackRecord f = Reread(interruption->id, reservation_.primary.id);
  EXPECT_TRUE(f.migration_id.empty());
  EXPECT_TRUE(absl::StrContains(f.detail, "cancelled")) << f.detail;
  m = *migrations_->Get(m.id);
  ASSERT_TRUE(m.cancel_requested);
  Run(m);
  EXPECT_EQ(m.state, MigrationState::kRolledBack);
  ASSERT_TRUE(fallback_->ReconcileOnce().ok());
  f = Reread(interruption->id, reservation_.primary.id);
  ASSERT_FALSE(f.migration_id.empty()) << f.detail;
  RunFallback(f.migration_id);
  EXPECT_EQ(Reread(interruption->id, reservation_.primary.id).outcome, "on_demand_same_location");
}

TEST_F(SpotFallbackTest, AMigrationPastItsSwitchFinishesFirstAndItsNewShadowIsRebuilt) {
  sync_.ScriptDirtyBytes({1 * kMiB});
  auto planned = MigrateTo("iad-1");
  ASSERT_TRUE(planned.ok());
  store::MigrationRecord m = *planned;
  for (int i = 0; i < 40 && !m.progress.switched_at.has_value(); ++i) {
    auto step = migrator_->Step(m, "");
    ASSERT_TRUE(step.ok()) << step.status();
    m = step->migration;
    clock_.Advance(step->wait);
  }
  ASSERT_TRUE(m.progress.switched_at.has_value());
  auto interruption = Interrupt("fra-1");
  ASSERT_TRUE(interruption.ok());
  // Past its switch the old primary is already the shadow: rebuilt once the migration is done.
  store::SpotFallbackRecord f = Reread(interruption->id, reservation_.primary.id);
  EXPECT_EQ(f.state, "pending");
  EXPECT_TRUE(absl::StrContains(f.detail, "under way")) << f.detail;
  EXPECT_FALSE(migrations_->Get(m.id)->cancel_requested);
  Run(m);
  ASSERT_EQ(m.state, MigrationState::kDone);
  ASSERT_TRUE(fallback_->ReconcileOnce().ok());
  f = Reread(interruption->id, reservation_.primary.id);
  // The old primary stayed as the shadow in fra-1, on the spot capacity that goes away.
  EXPECT_EQ(f.role, "shadow");
  EXPECT_EQ(f.outcome, "shadow_rebuilt") << f.detail;
  auto r = placements_->Get(reservation_.id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->primary.location, "iad-1");
  EXPECT_NE(r->shadow.id, reservation_.primary.id);
}

TEST_F(SpotFallbackTest, BadReportsAreRefusedWithTheFieldNamed) {
  EXPECT_EQ(fallback_->Report({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Interrupt("nowhere-1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(
      Interrupt("", absl::Minutes(2), {"00000000-0000-0000-0000-000000000000"}).status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(Interrupt("", absl::Minutes(2), {"not-a-uuid"}).status().code(),
            absl::StatusCode::kNotFound);
  auto elsewhere = Interrupt("iad-1", absl::Minutes(2), {reservation_.primary.id});
  EXPECT_EQ(elsewhere.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(elsewhere.status().message(), "instance_ids"))
      << elsewhere.status();
  EXPECT_EQ(Interrupt("fra-1", absl::Hours(48)).status().code(),
            absl::StatusCode::kInvalidArgument);
  InterruptionNotice too_many;
  too_many.location = "fra-1";
  too_many.instance_ids.assign(1001, reservation_.primary.id);
  const absl::Status refused = fallback_->Report(too_many).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(refused.message(), "instance_ids")) << refused;
  InterruptionNotice long_reason;
  long_reason.location = "fra-1";
  long_reason.reason = std::string(1001, 'x');
  EXPECT_EQ(fallback_->Report(long_reason).status().code(), absl::StatusCode::kInvalidArgument);
  // Nothing was recorded by the refused reports.
  auto pending = spot_repository_->Pending();
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
  // Naming only the shadow (on spot in iad-1) rebuilds it at once, and touches nothing else.
  auto iad = Interrupt("", absl::Minutes(2), {reservation_.shadow.id});
  ASSERT_TRUE(iad.ok()) << iad.status();
  ASSERT_EQ(iad->fallbacks.size(), 1u);
  EXPECT_EQ(iad->location, "iad-1");
  EXPECT_EQ(iad->fallbacks[0].role, "shadow");
  EXPECT_EQ(iad->fallbacks[0].outcome, "shadow_rebuilt") << iad->fallbacks[0].detail;
  auto r = placements_->Get(reservation_.id);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->shadow.id, reservation_.shadow.id);
  EXPECT_EQ(r->primary.id, reservation_.primary.id);
}

}  // namespace
}  // namespace shadowplane::migration
