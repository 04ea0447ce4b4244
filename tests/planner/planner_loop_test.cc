// The planner loop and the decision service over a real PostgreSQL (label pg): decisions recorded
// when they change and confirmed otherwise, recommend never acting, auto starting a migration
// that names its decision, the fleet's budget and pause, a tick that overruns its interval, a
// tick the database fails, and ApplyDecision with its stale cases and bad input.
#include "planner/planner_loop.h"

#include <map>
#include <pqxx/pqxx>
#include <set>

#include "absl/strings/str_cat.h"
#include "planner/planner_loop_fixture.h"

namespace shadowplane::planner {
namespace {

TEST_F(PlannerLoopTest, ReservationsArePlannedInBatchesAcrossPagesAndCountedByWhatWasRead) {
  // Five reservations, pages of three, batches of two: every reservation decided once. Four have
  // their paths' window sums; one only its paths.
  std::vector<store::ReservationRecord> all = {reservation_};
  for (int i = 2; i <= 5; ++i) all.push_back(Reserve(absl::StrCat("web-", i)));
  for (size_t i = 0; i < all.size(); ++i) {
    StoreForecast(all[i].resource_id, 100, 20000, absl::ZeroDuration(), /*sums=*/i != 3);
  }
  prometheus::Registry registry;
  BuildLoop(3, 2, &registry);
  PlannerLoop::Tick t = Tick();
  EXPECT_EQ(t.planned, 5);
  EXPECT_EQ(t.recorded, 5);
  EXPECT_EQ(t.failed, 0);
  EXPECT_EQ(t.outcomes["recommend"], 5);
  std::set<std::string> decided;
  for (const store::DecisionRecord& d : Decisions()) decided.insert(d.resource_id);
  EXPECT_EQ(decided.size(), 5u);
  EXPECT_EQ(
      CounterValue(registry, "shadowplane_planner_demand_reads_total", {{"read", "window_sums"}}),
      4);
  EXPECT_EQ(
      CounterValue(registry, "shadowplane_planner_demand_reads_total", {{"read", "sample_paths"}}),
      1);
  EXPECT_EQ(CounterValue(registry, "shadowplane_planner_decisions_total",
                         {{"outcome", "recommend"}, {"gate", "mode"}}),
            5);
  EXPECT_EQ(CounterValue(registry, "shadowplane_planner_ticks_total", {{"result", "ok"}}), 1);
}

TEST_F(PlannerLoopTest, RecommendIsRecordedWhenItChangesConfirmedOtherwiseAndNeverActs) {
  StoreForecast(reservation_.resource_id, 100, 20000);
  PlannerLoop::Tick t = Tick();
  EXPECT_TRUE(t.ran);
  EXPECT_EQ(t.planned, 1);
  EXPECT_EQ(t.recorded, 1);
  std::vector<store::DecisionRecord> rows = Decisions();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, "recommend");
  EXPECT_EQ(rows[0].to_location, "iad-1");
  EXPECT_EQ(rows[0].blocking_gate, "mode");
  EXPECT_EQ(rows[0].decided_at, clock_.Now());
  EXPECT_TRUE(rows[0].migration_id.empty());

  // Not due before the interval has passed.
  clock_.Advance(absl::Minutes(4));
  EXPECT_FALSE(Tick().ran);
  // The same decision again: confirmed, not written again.
  clock_.Advance(absl::Minutes(1));
  t = Tick();
  EXPECT_TRUE(t.ran);
  EXPECT_EQ(t.recorded, 0);
  EXPECT_EQ(t.confirmed, 1);
  rows = Decisions();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].confirmed_at, clock_.Now());
  // An hour after the row: written again, though nothing changed.
  clock_.Advance(absl::Minutes(56));
  StoreForecast(reservation_.resource_id, 100, 20000);  // fresh: the forecast is not stale
  EXPECT_EQ(Tick().recorded, 1);
  // The outcome changes (demand came home): a row at once.
  clock_.Advance(absl::Minutes(5));
  StoreForecast(reservation_.resource_id, 20000, 100);
  EXPECT_EQ(Tick().recorded, 1);
  rows = Decisions();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].outcome, "stay");  // newest first
  // Recommend mode never acts.
  EXPECT_TRUE(Migrations().empty());
}

TEST_F(PlannerLoopTest, AutoModeStartsAMigrationThatNamesItsDecisionAndThenWaitsForIt) {
  UseMode(PlannerMode::kAuto);
  StoreForecast(reservation_.resource_id, 100, 20000);
  PlannerLoop::Tick t = Tick();
  EXPECT_EQ(t.moves_started, 1);
  EXPECT_EQ(t.moves_failed, 0);
  std::vector<store::MigrationRecord> moves = Migrations();
  ASSERT_EQ(moves.size(), 1u);
  std::vector<store::DecisionRecord> rows = Decisions();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, "move");
  EXPECT_EQ(moves[0].decision_id, rows[0].id);
  EXPECT_EQ(moves[0].target_location, "iad-1");
  ASSERT_TRUE(moves[0].predicted_confidence.has_value());
  EXPECT_DOUBLE_EQ(*moves[0].predicted_confidence, rows[0].confidence);
  EXPECT_NEAR(*moves[0].predicted_saving, rows[0].expected_saving, 1e-9);
  absl::StatusOr<store::DecisionRecord> got = service_->Get(rows[0].id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->migration_id, moves[0].id);
  EXPECT_NE(got->explanation_json.find(reservation_.resource_id), std::string::npos);

  // The next tick finds the migration running: blocked, and no second migration.
  clock_.Advance(absl::Minutes(5));
  t = Tick();
  EXPECT_EQ(t.moves_started, 0);
  EXPECT_EQ(Migrations().size(), 1u);
  rows = Decisions();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].outcome, "blocked");
  EXPECT_EQ(rows[0].blocking_gate, "migration_in_progress");
}

TEST_F(PlannerLoopTest, AReservationsOwnModeAndPinOverrideTheDefaults) {
  // The server's default is recommend; this reservation asks for auto, the other for a pin.
  reservation::ReserveSpec spec;
  spec.request_id = "auto-1";
  spec.name = "auto-1";
  spec.capacity = {500, 256, CapacityType::kOnDemand};
  spec.client_regions = {{"eu", 1.0}};
  spec.planner.mode = PlannerMode::kAuto;
  absl::StatusOr<store::ReservationRecord> automatic = placements_->Reserve(spec);
  ASSERT_TRUE(automatic.ok()) << automatic.status();
  spec.request_id = spec.name = "pinned-1";
  spec.planner.pinned_location = "fra-1";
  absl::StatusOr<store::ReservationRecord> pinned = placements_->Reserve(spec);
  ASSERT_TRUE(pinned.ok()) << pinned.status();
  for (const std::string& id :
       {reservation_.resource_id, automatic->resource_id, pinned->resource_id}) {
    StoreForecast(id, 100, 20000);
  }
  EXPECT_EQ(Tick().moves_started, 1);
  std::vector<store::MigrationRecord> moves = Migrations();
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_EQ(moves[0].resource_id, automatic->resource_id);
  EXPECT_EQ(Decisions(reservation_.resource_id)[0].outcome, "recommend");
  EXPECT_EQ(Decisions(pinned->resource_id)[0].blocking_gate, "pinned");
}

TEST_F(PlannerLoopTest, TheCalibrationCountsJudgedPlannerMovesByTheirConfidence) {
  UseMode(PlannerMode::kAuto);
  const store::ReservationRecord second = Reserve("web-2");
  StoreForecast(reservation_.resource_id, 100, 20000);
  StoreForecast(second.resource_id, 100, 20000);
  ASSERT_EQ(Tick().moves_started, 2);
  // OBSERVING's verdicts, as the migration step writes them: one paid off, one did not.
  std::vector<store::MigrationRecord> moves = Migrations();
  ASSERT_EQ(moves.size(), 2u);
  ASSERT_TRUE(pool_
                  ->Run("judging",
                        [&](pqxx::connection& c) -> absl::Status {
                          pqxx::work txn(c);
                          txn.exec_params(
                              "UPDATE migrations SET paid_off = true, realized_saving = 3.5 "
                              "WHERE id = $1::uuid",
                              moves[0].id);
                          txn.exec_params(
                              "UPDATE migrations SET paid_off = false, realized_saving = "
                              "-0.5 WHERE id = $1::uuid",
                              moves[1].id);
                          txn.commit();
                          return absl::OkStatus();
                        })
                  .ok());
  absl::StatusOr<std::vector<CalibrationBucket>> table =
      service_->Calibration(clock_.Now() - absl::Hours(1));
  ASSERT_TRUE(table.ok()) << table.status();
  const CalibrationBucket& top = table->back();  // confidence 1.0 (every path pays)
  EXPECT_EQ(top.moves, 2);
  EXPECT_EQ(top.paid_off, 1);
  EXPECT_DOUBLE_EQ(top.mean_realized_saving, 1.5);
  EXPECT_NEAR(top.mean_predicted_saving,
              (*moves[0].predicted_saving + *moves[1].predicted_saving) / 2, 1e-9);
  // Before the moves: nothing judged.
  table = service_->Calibration(clock_.Now() + absl::Hours(1));
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->back().moves, 0);
}

TEST_F(PlannerLoopTest, TheFleetBudgetAndThePauseHoldMovesBackAndSaySo) {
  UseMode(PlannerMode::kAuto, /*budget=*/1);
  const store::ReservationRecord second = Reserve("web-2");
  StoreForecast(reservation_.resource_id, 100, 20000);
  StoreForecast(second.resource_id, 100, 20000);
  PlannerLoop::Tick t = Tick();
  EXPECT_EQ(t.moves_started, 1);
  EXPECT_EQ(Migrations().size(), 1u);
  int budget_blocked = 0;
  for (const store::DecisionRecord& d : Decisions()) {
    if (d.blocking_gate == "fleet_budget") {
      ++budget_blocked;
      EXPECT_EQ(d.outcome, "blocked");
      EXPECT_NE(d.reason.find("budget"), std::string::npos) << d.reason;
    }
  }
  EXPECT_EQ(budget_blocked, 1);

  // Paused: nothing moves, whatever the budget; recorded once, with who and why.
  UseMode(PlannerMode::kAuto, /*budget=*/20);
  absl::StatusOr<PlannerStatus> status = service_->Pause("ipv4:127.0.0.1:5000", "bad forecasts");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(status->paused);
  ASSERT_TRUE(service_->Pause("ipv4:127.0.0.1:5001", "again").ok());
  status = service_->Status();
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->recent_controls.size(), 1u);
  EXPECT_EQ(status->last_control->actor, "ipv4:127.0.0.1:5000");
  EXPECT_EQ(status->last_control->reason, "bad forecasts");
  EXPECT_EQ(status->planned_moves_last_hour, 1);
  clock_.Advance(absl::Minutes(5));
  t = Tick();
  EXPECT_EQ(t.moves_started, 0);
  EXPECT_EQ(Migrations().size(), 1u);
  // The one the budget held back (which of the two moved first is the workers' order).
  const std::string waiting = Migrations()[0].resource_id == second.resource_id
                                  ? reservation_.resource_id
                                  : second.resource_id;
  EXPECT_EQ(Decisions(waiting)[0].blocking_gate, "paused");

  status = service_->Resume("ipv4:127.0.0.1:5000", "fixed");
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->paused);
  EXPECT_EQ(status->recent_controls.size(), 2u);
  clock_.Advance(absl::Minutes(5));
  EXPECT_EQ(Tick().moves_started, 1);
  EXPECT_EQ(Migrations().size(), 2u);
  EXPECT_EQ(service_->Pause("x", std::string(1001, 'r')).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PlannerLoopTest, ATickThatOverrunsItsIntervalSkipsTheNextOne) {
  StoreForecast(reservation_.resource_id, 100, 20000);
  // The tick takes six minutes of domain time (the explanation is where time passes).
  explain_hook_ = [this] { clock_.Advance(absl::Minutes(6)); };
  const absl::Time started = clock_.Now();
  EXPECT_TRUE(Tick().ran);
  explain_hook_ = nullptr;
  clock_.Advance(started + absl::Minutes(5) - clock_.Now() + absl::Minutes(4));
  EXPECT_FALSE(Tick().ran) << "the tick due at +5 min ran into the overrun";
  clock_.Advance(absl::Minutes(1));  // +10 min
  EXPECT_TRUE(Tick().ran);
}

TEST_F(PlannerLoopTest, ATickTheDatabaseFailsIsAnErrorAndWritesNothingHalfway) {
  StoreForecast(reservation_.resource_id, 100, 20000);
  ASSERT_TRUE(pool_
                  ->Run("breaking",
                        [](pqxx::connection& c) -> absl::Status {
                          pqxx::work txn(c);
                          txn.exec(
                              "ALTER TABLE planner_decisions ADD CONSTRAINT no_rows CHECK (false)");
                          txn.commit();
                          return absl::OkStatus();
                        })
                  .ok());
  absl::StatusOr<PlannerLoop::Tick> t = loop_->RunOnce();
  EXPECT_FALSE(t.ok());
  ASSERT_TRUE(pool_
                  ->Run("mending",
                        [](pqxx::connection& c) -> absl::Status {
                          pqxx::work txn(c);
                          txn.exec("ALTER TABLE planner_decisions DROP CONSTRAINT no_rows");
                          txn.commit();
                          return absl::OkStatus();
                        })
                  .ok());
  EXPECT_TRUE(Decisions().empty());
  // The next interval's tick runs whole.
  clock_.Advance(absl::Minutes(5));
  EXPECT_EQ(Tick().recorded, 1);
}

TEST_F(PlannerLoopTest, ApplyDecisionStartsARecommendationOnceAndRefusesStaleOnes) {
  StoreForecast(reservation_.resource_id, 100, 20000);
  Tick();
  std::vector<store::DecisionRecord> rows = Decisions();
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows[0].outcome, "recommend");

  // Stale: not confirmed for more than two intervals.
  clock_.Advance(absl::Minutes(11));
  absl::StatusOr<AppliedDecision> applied = service_->Apply(rows[0].id);
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kFailedPrecondition) << applied.status();
  EXPECT_NE(applied.status().message().find("stale"), std::string::npos) << applied.status();
  StoreForecast(reservation_.resource_id, 100, 20000);
  Tick();  // confirms it
  applied = service_->Apply(rows[0].id);
  ASSERT_TRUE(applied.ok()) << applied.status();
  std::vector<store::MigrationRecord> moves = Migrations();
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_EQ(applied->migration_id, moves[0].id);
  EXPECT_EQ(moves[0].decision_id, rows[0].id);
  // Again: the same migration, no second one.
  absl::StatusOr<AppliedDecision> again = service_->Apply(rows[0].id);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->migration_id, moves[0].id);
  EXPECT_EQ(Migrations().size(), 1u);

  // Unknown ids, and a decision that is no recommendation.
  EXPECT_EQ(service_->Apply("00000000-0000-4000-8000-000000000000").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(service_->Apply("not-an-id").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(service_->Apply("").status().code(), absl::StatusCode::kInvalidArgument);
  clock_.Advance(absl::Minutes(5));
  Tick();  // the running migration blocks now
  rows = Decisions();
  ASSERT_EQ(rows[0].outcome, "blocked");
  applied = service_->Apply(rows[0].id);
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kFailedPrecondition) << applied.status();
}

TEST_F(PlannerLoopTest, ARecommendationIsNotAppliedWhileAMigrationOfTheResourceRuns) {
  StoreForecast(reservation_.resource_id, 100, 20000);
  Tick();
  const std::string id = Decisions()[0].id;
  migration::MigrateSpec spec;
  spec.request_id = "by-hand";
  spec.reservation_id = reservation_.id;
  spec.target_location = "iad-1";
  spec.reason = "an operator's move";
  absl::StatusOr<store::MigrationRecord> running = manager_->Migrate(spec);
  ASSERT_TRUE(running.ok()) << running.status();
  absl::StatusOr<AppliedDecision> applied = service_->Apply(id);
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kFailedPrecondition) << applied.status();
  EXPECT_NE(applied.status().message().find(running->id), std::string::npos) << applied.status();
  EXPECT_EQ(Migrations().size(), 1u);
}

TEST_F(PlannerLoopTest, ARecommendationForAReservationThatChangedIsStale) {
  StoreForecast(reservation_.resource_id, 100, 20000);
  Tick();
  const std::string id = Decisions()[0].id;
  store::ReservationRecord changed = reservations_->Get(reservation_.id).value();
  changed.shadow_sync_interval_seconds = 120;
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(reservations_->UpdateSettings(changed, clock_.Now()).ok());
  absl::StatusOr<AppliedDecision> applied = service_->Apply(id);
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kFailedPrecondition) << applied.status();
  EXPECT_NE(applied.status().message().find("changed"), std::string::npos) << applied.status();
  EXPECT_TRUE(Migrations().empty());
}

TEST_F(PlannerLoopTest, ListingRefusesBadInputNamingTheFieldAndPages) {
  const store::ReservationRecord second = Reserve("web-2");
  StoreForecast(reservation_.resource_id, 100, 20000);
  StoreForecast(second.resource_id, 100, 20000);
  Tick();
  struct Case {
    std::function<void(DecisionQuery&)> bad;
    std::string names;
  };
  const std::vector<Case> cases = {
      {[](DecisionQuery& q) { q.outcome = "maybe"; }, "outcome"},
      {[](DecisionQuery& q) { q.resource_id = "x' OR 1=1"; }, "resource_id"},
      {[](DecisionQuery& q) { q.page_size = -1; }, "page_size"},
      {[](DecisionQuery& q) { q.page_size = 100000; }, "page_size"},
      {[](DecisionQuery& q) { q.page_token = "12:nope"; }, "page_token"},
      {[this](DecisionQuery& q) {
         q.from = clock_.Now();
         q.to = clock_.Now() - absl::Hours(1);
       },
       "to"},
  };
  for (const Case& c : cases) {
    DecisionQuery q;
    c.bad(q);
    absl::StatusOr<DecisionPage> page = service_->List(q);
    ASSERT_FALSE(page.ok()) << c.names;
    EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument) << page.status();
    EXPECT_NE(page.status().message().find(c.names), std::string::npos) << page.status();
  }
  DecisionQuery q;
  q.page_size = 1;
  absl::StatusOr<DecisionPage> first = service_->List(q);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->decisions.size(), 1u);
  q.page_token = first->next_page_token;
  absl::StatusOr<DecisionPage> rest = service_->List(q);
  ASSERT_TRUE(rest.ok()) << rest.status();
  ASSERT_EQ(rest->decisions.size(), 1u);
  EXPECT_NE(rest->decisions[0].id, first->decisions[0].id);
  q.outcome = "move";
  q.page_token.clear();
  EXPECT_TRUE(service_->List(q)->decisions.empty());
}

}  // namespace
}  // namespace shadowplane::planner
