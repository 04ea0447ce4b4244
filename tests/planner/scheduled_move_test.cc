// Moves the planner times for later, over a real PostgreSQL (label pg): a move whose best start is
// beyond the next tick is recorded as scheduled ("move at T") with its start and cutover; it
// starts at its time as a migration that pre-copies until the cutover; it is cancelled when it no
// longer passes, when its reservation is released or when the resource moved by other means; and
// the affine clients are priced at the cutover the timing chose.
#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "planner/planner_loop_fixture.h"

namespace shadowplane::planner {
namespace {

// The clock starts at 12:00. Europe asks 1,000 requests an hour, dipping to 200 from 16:00 to
// 18:00; the US asks nothing until 20:00, then 100,000 an hour: Virginia is cheaper from 20:00,
// and cheaper over the next 24 hours as a whole.
double Eu(absl::Time hour) {
  const int h = absl::ToCivilHour(hour, absl::UTCTimeZone()).hour();
  return h >= 16 && h < 18 ? 200 : 1000;
}
double Us(absl::Time hour) {
  const int h = absl::ToCivilHour(hour, absl::UTCTimeZone()).hour();
  return h >= 20 || h < 8 ? 100000 : 0;
}
double NoUs(absl::Time) { return 0; }

class ScheduledMoveTest : public PlannerLoopTest {
 protected:
  void SetUp() override {
    PlannerLoopTest::SetUp();
    if (HasFatalFailure()) return;
    registry_ = std::make_shared<prometheus::Registry>();
    UseMode(PlannerMode::kAuto);
    BuildLoop(1, 50, registry_.get());
  }

  absl::Time Today(int hour) {
    return absl::FromCivil(absl::CivilHour(2026, 12, 6, hour), absl::UTCTimeZone());
  }

  std::vector<store::DecisionRecord> Scheduled() {
    std::vector<store::DecisionRecord> out;
    for (const store::DecisionRecord& d : Decisions(reservation_.resource_id)) {
      if (d.outcome == "scheduled") out.push_back(d);
    }
    return out;
  }

  double ScheduledCount(const std::string& result) {
    return CounterValue(*registry_, "shadowplane_planner_scheduled_moves_total",
                        {{"result", result}});
  }

  std::shared_ptr<prometheus::Registry> registry_;
};

TEST_F(ScheduledMoveTest, AMoveIsScheduledForTheTroughBeforeTheShiftAndStartsAtItsTime) {
  ASSERT_EQ(clock_.Now(), Today(12));
  StoreProfile(reservation_.resource_id, Eu, Us);
  Tick();
  std::vector<store::DecisionRecord> scheduled = Scheduled();
  ASSERT_EQ(scheduled.size(), 1u);
  const store::DecisionRecord& d = scheduled[0];
  EXPECT_EQ(d.to_location, "iad-1");
  ASSERT_TRUE(d.start_at.has_value() && d.cutover_at.has_value());
  EXPECT_EQ(*d.cutover_at, Today(16)) << "the trough before the 20:00 shift";
  EXPECT_LE(*d.start_at, *d.cutover_at);
  EXPECT_GT(*d.start_at, clock_.Now() + absl::Minutes(5));
  EXPECT_TRUE(absl::StartsWith(d.reason, "move at ")) << d.reason;
  EXPECT_TRUE(absl::StrContains(d.reason, "trough")) << d.reason;
  EXPECT_TRUE(Migrations().empty()) << "nothing starts before its time";
  EXPECT_EQ(ScheduledCount("scheduled"), 1);

  // The next ticks confirm it.
  clock_.Advance(absl::Minutes(5));
  Tick();
  EXPECT_EQ(Scheduled().size(), 1u);
  EXPECT_TRUE(Migrations().empty());

  // Its time: a fresh forecast, and the move starts, to cut over at 16:00.
  clock_.Set(*d.start_at - absl::Minutes(2));
  StoreProfile(reservation_.resource_id, Eu, Us);
  Tick();
  const std::vector<store::MigrationRecord> started = Migrations();
  ASSERT_EQ(started.size(), 1u);
  ASSERT_TRUE(started[0].cutover_after.has_value());
  EXPECT_EQ(*started[0].cutover_after, Today(16));
  auto ended = decisions_->Get(d.id);
  ASSERT_TRUE(ended.ok());
  ASSERT_TRUE(ended->ended_at.has_value());
  EXPECT_EQ(ended->end_note, "started as migration " + started[0].id);
  EXPECT_EQ(ScheduledCount("started"), 1);
}

TEST_F(ScheduledMoveTest, AScheduledMoveThatNoLongerPassesIsCancelledAndNeverStarts) {
  StoreProfile(reservation_.resource_id, Eu, Us);
  Tick();
  ASSERT_EQ(Scheduled().size(), 1u);
  // The forecast changes its mind: no US demand after all.
  clock_.Advance(absl::Minutes(30));
  StoreProfile(reservation_.resource_id, Eu, NoUs);
  Tick();
  const std::vector<store::DecisionRecord> scheduled = Scheduled();
  ASSERT_EQ(scheduled.size(), 1u);
  ASSERT_TRUE(scheduled[0].ended_at.has_value());
  EXPECT_TRUE(absl::StartsWith(scheduled[0].end_note, "cancelled: now stay"))
      << scheduled[0].end_note;
  clock_.Set(Today(16));
  StoreProfile(reservation_.resource_id, Eu, NoUs);
  Tick();
  EXPECT_TRUE(Migrations().empty());
  EXPECT_EQ(ScheduledCount("cancelled"), 1);
}

TEST_F(ScheduledMoveTest, AReleasedReservationsScheduledMoveIsCancelled) {
  StoreProfile(reservation_.resource_id, Eu, Us);
  Tick();
  ASSERT_EQ(Scheduled().size(), 1u);
  ASSERT_TRUE(placements_->Release(reservation_.id).ok());
  clock_.Advance(absl::Minutes(5));
  Tick();
  const std::vector<store::DecisionRecord> scheduled = Scheduled();
  ASSERT_EQ(scheduled.size(), 1u);
  ASSERT_TRUE(scheduled[0].ended_at.has_value());
  EXPECT_EQ(scheduled[0].end_note, "cancelled: the reservation is released");
  clock_.Set(Today(16));
  Tick();
  EXPECT_TRUE(Migrations().empty());
  EXPECT_EQ(ScheduledCount("cancelled"), 1);
}

TEST_F(ScheduledMoveTest, AResourceMovedByOtherMeansHasItsScheduledMoveCancelled) {
  StoreProfile(reservation_.resource_id, Eu, Us);
  Tick();
  ASSERT_EQ(Scheduled().size(), 1u);
  // A move made by hand ended with the primary in Virginia (as its record says).
  ASSERT_TRUE(pool_
                  ->Run("moving by hand",
                        [&](pqxx::connection& c) -> absl::Status {
                          pqxx::work txn(c);
                          txn.exec_params(
                              "UPDATE instances SET location = 'iad-1' WHERE id = $1::uuid",
                              reservation_.primary.id);
                          txn.commit();
                          return absl::OkStatus();
                        })
                  .ok());
  clock_.Advance(absl::Minutes(5));
  Tick();
  const std::vector<store::DecisionRecord> scheduled = Scheduled();
  ASSERT_EQ(scheduled.size(), 1u);
  ASSERT_TRUE(scheduled[0].ended_at.has_value());
  EXPECT_EQ(scheduled[0].end_note, "cancelled: the primary moved to iad-1 by other means");
  EXPECT_TRUE(Migrations().empty());
}

TEST_F(ScheduledMoveTest, AffineSessionsArePricedAtTheChosenCutover) {
  // 40 clients seen within the session window.
  std::vector<store::AffinityRow> rows;
  for (int i = 0; i < 40; ++i) {
    rows.push_back({reservation_.resource_id, absl::StrCat("id:c", i), reservation_.primary.id,
                    "eu", clock_.Now() - absl::Minutes(3)});
  }
  ASSERT_TRUE(telemetry_->UpsertAffinity(rows).ok());
  plan_options_.prices.disrupted_session_price = 0.5;
  UseMode(PlannerMode::kAuto);
  StoreProfile(reservation_.resource_id, Eu, Us);
  absl::StatusOr<PlanDecision> d = PlanOne();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->affinity.clients, 40);
  ASSERT_TRUE(d->timing.has_value()) << d->reason;
  EXPECT_EQ(d->timing->cutover.cutover_at, Today(16));
  // At 16:00 Europe asks 200 an hour against 1,000 now: a fifth of the sessions.
  EXPECT_NEAR(d->affinity.expected_sessions, 8, 1e-9);
  EXPECT_NEAR(d->affinity.cost, 4, 1e-9);
  for (const CandidateExplanation& c : d->candidates) {
    if (c.location == "iad-1") {
      EXPECT_NEAR(c.affinity_cost, 4, 1e-9);
    }
  }
}

TEST_F(ScheduledMoveTest, ManyAffineClientsForASmallSavingKeepTheResource) {
  // Every hour a little more from the US than from Europe: a move pays, but not by much.
  auto eu = [](absl::Time) { return 1000.0; };
  auto us = [](absl::Time) { return 3000.0; };
  StoreProfile(reservation_.resource_id, eu, us);
  absl::StatusOr<PlanDecision> free = PlanOne();
  ASSERT_TRUE(free.ok()) << free.status();
  ASSERT_FALSE(free->to_location.empty()) << free->reason;
  const double saving = free->expected_saving;

  std::vector<store::AffinityRow> rows;
  const int clients = static_cast<int>(4 * saving / plan_options_.prices.disrupted_session_price);
  for (int i = 0; i < clients; ++i) {
    rows.push_back({reservation_.resource_id, absl::StrCat("id:c", i), reservation_.primary.id,
                    "us", clock_.Now() - absl::Minutes(1)});
  }
  ASSERT_TRUE(telemetry_->UpsertAffinity(rows).ok());
  absl::StatusOr<PlanDecision> held = PlanOne();
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->outcome, PlanOutcome::kStay) << held->reason;
  EXPECT_EQ(held->affinity.clients, clients);
  // Clients seen before the session window do not count.
  clock_.Advance(absl::Minutes(20));
  StoreProfile(reservation_.resource_id, eu, us);
  absl::StatusOr<PlanDecision> later = PlanOne();
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(later->affinity.clients, 0);
  EXPECT_FALSE(later->to_location.empty()) << later->reason;
}

}  // namespace
}  // namespace shadowplane::planner
