// The ReservationManager in process, over a real PostgreSQL (label pg) and the fake compute and
// traffic providers (tests/support/fake_providers.h): placement onto the providers, steering,
// release, a location that cannot be reached (or is busy) leaving the reservation pending until
// the reconcile pass finishes it, a permanent error rolled back, and bad input refused.
#include "reservation/reservation_manager.h"

#include <cmath>
#include <limits>

#include "absl/strings/match.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "planner/planner_overrides_codec.h"
#include "reservation/manager_fixture.h"

namespace shadowplane::reservation {
namespace {

using ReservationManagerTest = ManagerOnDatabaseTest;

TEST_F(ReservationManagerTest, APrimaryNearItsClientsAndADiverseShadowRunAndClientsAreSteered) {
  auto r = manager_->Reserve(Spec("r-1"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state, "active");
  EXPECT_EQ(r->primary.location, "fra-1") << "the clients are in eu";
  EXPECT_EQ(r->shadow.location, "iad-1") << "another region, far enough";
  const auto instances = compute_.instances();
  ASSERT_EQ(instances.size(), 2u);
  EXPECT_FALSE(instances.at(r->primary.id).read_only);
  EXPECT_TRUE(instances.at(r->shadow.id).read_only);
  EXPECT_LT(instances.at(r->shadow.id).capacity.millicores, 500) << "a small shadow";
  const auto services = traffic_.services();
  ASSERT_EQ(services.count(r->service_name), 1u) << r->service_name;
  EXPECT_EQ(services.at(r->service_name).ToString(), r->primary.endpoint);

  // The same request again is the same reservation; nothing more is created.
  auto again = manager_->Reserve(Spec("r-1"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->id, r->id);
  EXPECT_EQ(compute_.instances().size(), 2u);

  auto released = manager_->Release(r->id);
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(released->state, "released");
  EXPECT_TRUE(compute_.instances().empty()) << "instances and their data are gone";
  EXPECT_TRUE(traffic_.services().empty());
  EXPECT_EQ(manager_->Release(r->id)->state, "released") << "idempotent";
}

TEST_F(ReservationManagerTest, AnUnreachableOrBusyLocationLeavesItPendingUntilTheReconcilePass) {
  for (const absl::Status& outage :
       {absl::UnavailableError("agent down"), absl::ResourceExhaustedError("agent busy")}) {
    compute_.FailAt("iad-1", outage);
    const std::string request = absl::StrCat("r-", absl::StatusCodeToString(outage.code()));
    auto r = manager_->Reserve(Spec(request));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->state, "pending") << outage;
    ASSERT_TRUE(manager_->ReconcileOnce().ok());
    EXPECT_EQ(manager_->Get(r->id)->state, "pending") << "still unreachable";
    compute_.FailAt("iad-1", absl::OkStatus());
    ASSERT_TRUE(manager_->ReconcileOnce().ok());
    auto done = manager_->Get(r->id);
    ASSERT_TRUE(done.ok());
    EXPECT_EQ(done->state, "active") << outage;
    EXPECT_EQ(done->shadow.state, "running");
    ASSERT_TRUE(manager_->Release(r->id).ok());
  }
}

TEST_F(ReservationManagerTest, APermanentProviderErrorRollsTheReservationBackLeavingNothing) {
  compute_.FailAt("iad-1", absl::InvalidArgumentError("seed_dir /nope cannot be used"));
  auto r = manager_->Reserve(Spec("r-bad"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_TRUE(compute_.instances().empty()) << "the primary created first was undone";
  EXPECT_TRUE(traffic_.services().empty());
  store::ReservationFilter all;
  auto listed = manager_->List(all);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].state, "failed");
  EXPECT_TRUE(absl::StrContains((*listed)[0].error, "seed_dir")) << (*listed)[0].error;
}

TEST_F(ReservationManagerTest, BadRequestsAreRefusedNamingTheFieldAndRecordNothing) {
  ReserveSpec no_capacity = Spec("r-2");
  no_capacity.capacity.millicores = 0;
  auto refused = manager_->Reserve(no_capacity);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "millicores")) << refused.status();
  ReserveSpec no_id = Spec("");
  EXPECT_EQ(manager_->Reserve(no_id).status().code(), absl::StatusCode::kInvalidArgument);
  ReserveSpec nowhere = Spec("r-3");
  nowhere.locations = {"mars-1"};
  EXPECT_FALSE(manager_->Reserve(nowhere).ok());
  ReserveSpec too_big = Spec("r-4");
  too_big.capacity = {64000, 256, CapacityType::kOnDemand};
  EXPECT_FALSE(manager_->Reserve(too_big).ok()) << "no location has room";
  // Sizes near INT64_MAX wrapped placement's room check (and then the database's sums): bounded.
  constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
  for (const Capacity& huge : {Capacity{kInt64Max, 256, CapacityType::kOnDemand},
                               Capacity{1000, kInt64Max - 1, CapacityType::kOnDemand},
                               Capacity{kMaxMillicores + 1, 256, CapacityType::kOnDemand}}) {
    ReserveSpec absurd = Spec("r-5");
    absurd.capacity = huge;
    const absl::Status s = manager_->Reserve(absurd).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), "must be within")) << s;
  }
  EXPECT_EQ(compute_.calls(), 0) << "nothing reached a provider";
  EXPECT_TRUE(compute_.instances().empty());
  auto recorded = manager_->List(store::ReservationFilter{});
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_TRUE(recorded->empty()) << "no reservation row for a refused request";
}

TEST_F(ReservationManagerTest, PlannerOverridesAreCheckedStoredAndMergedOnUpdate) {
  const absl::Time t0 = clock_.Now();
  struct Case {
    std::function<void(planner::PlannerOverrides&)> bad;
    std::string names;
  };
  const std::vector<Case> cases = {
      {[](planner::PlannerOverrides& o) { o.migration_threshold = 1.2; },
       "planner.migration_threshold"},
      {[](planner::PlannerOverrides& o) { o.migration_threshold = std::nan(""); },
       "planner.migration_threshold"},
      {[](planner::PlannerOverrides& o) { o.hysteresis_relative = -0.1; },
       "planner.hysteresis_relative"},
      {[](planner::PlannerOverrides& o) { o.min_dwell = absl::Hours(-1); }, "planner.min_dwell"},
      {[](planner::PlannerOverrides& o) { o.max_moves_per_day = -1; }, "planner.max_moves_per_day"},
      {[t0](planner::PlannerOverrides& o) {
         o.blackouts = std::vector<planner::BlackoutWindow>{{t0 + absl::Hours(2), t0}};
       },
       "planner.blackouts"},
      {[t0](planner::PlannerOverrides& o) {
         o.blackouts = std::vector<planner::BlackoutWindow>{
             {t0, t0 + absl::Hours(2)}, {t0 + absl::Hours(1), t0 + absl::Hours(3)}};
       },
       "planner.blackouts"},
      {[](planner::PlannerOverrides& o) { o.pinned_location = "mars-1"; },
       "planner.pinned_location"},
  };
  int n = 0;
  for (const Case& c : cases) {
    ReserveSpec spec = Spec("bad-" + std::to_string(n++));
    c.bad(spec.planner);
    auto refused = manager_->Reserve(spec);
    ASSERT_FALSE(refused.ok()) << c.names;
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
    EXPECT_TRUE(absl::StrContains(refused.status().message(), c.names)) << refused.status();
  }
  // A pin outside an explicit placement set.
  ReserveSpec outside = Spec("bad-outside");
  outside.locations = {"fra-1", "iad-1"};
  outside.planner.pinned_location = "sin-1";
  EXPECT_EQ(manager_->Reserve(outside).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(manager_->List(store::ReservationFilter{})->empty()) << "nothing recorded";

  ReserveSpec spec = Spec("with-overrides");
  spec.planner.mode = planner::PlannerMode::kAuto;
  spec.planner.migration_threshold = 0.9;
  spec.planner.blackouts =
      std::vector<planner::BlackoutWindow>{{t0 + absl::Hours(1), t0 + absl::Hours(2)}};
  absl::StatusOr<store::ReservationRecord> r = manager_->Reserve(spec);
  ASSERT_TRUE(r.ok()) << r.status();
  planner::PlannerOverrides stored;
  ASSERT_TRUE(planner::OverridesFromJson(r->planner_overrides_json, &stored))
      << r->planner_overrides_json;
  EXPECT_EQ(stored.mode, planner::PlannerMode::kAuto);
  EXPECT_EQ(stored.migration_threshold, 0.9);
  ASSERT_TRUE(stored.blackouts.has_value());
  EXPECT_EQ(stored.blackouts->at(0).start, t0 + absl::Hours(1));

  // An update replaces what it sets and keeps the rest; a bad one changes nothing.
  ReservationUpdate update;
  update.planner.migration_threshold = 0.7;
  update.planner.pinned_location = "fra-1";
  ASSERT_TRUE(manager_->Update(r->id, update).ok());
  ReservationUpdate bad;
  bad.planner.migration_threshold = -1;
  EXPECT_EQ(manager_->Update(r->id, bad).status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<store::ReservationRecord> now = manager_->Get(r->id);
  ASSERT_TRUE(now.ok());
  ASSERT_TRUE(planner::OverridesFromJson(now->planner_overrides_json, &stored));
  EXPECT_EQ(stored.mode, planner::PlannerMode::kAuto);
  EXPECT_EQ(stored.migration_threshold, 0.7);
  EXPECT_EQ(stored.pinned_location, "fra-1");
  EXPECT_TRUE(stored.blackouts.has_value());
  ReservationUpdate reset;
  reset.reset_planner = true;
  ASSERT_TRUE(manager_->Update(r->id, reset).ok());
  EXPECT_EQ(manager_->Get(r->id)->planner_overrides_json, "");
}

TEST_F(ReservationManagerTest, TheReconcilePassFencesAWritableShadowButNotOneJustPromoted) {
  auto r = manager_->Reserve(Spec("r-fence"));
  ASSERT_TRUE(r.ok()) << r.status();
  const std::string shadow = r->shadow.id;
  // Serving writes against its record: fenced.
  const providers::WriteGrant stale{1, absl::Hours(1)};
  ASSERT_TRUE(compute_.GrantWrites(r->shadow.location, shadow, stale).ok());
  ASSERT_TRUE(manager_->ReconcileOnce().ok());
  EXPECT_TRUE(compute_.instances().at(shadow).read_only);

  // A promotion between the pass's read of the database and its look at the instance: recorded
  // writable first, then made writable, as the migration does. It stays writable.
  bool promoted = false;
  compute_.OnDescribe([&](const std::string& id) {
    if (id != shadow || promoted) return;
    promoted = true;
    ASSERT_TRUE(reservations_->SetInstanceReadOnly(shadow, false, clock_.Now()).ok());
    ASSERT_TRUE(fencing_->writes.Grant(r->shadow, /*new_epoch=*/true).ok());
  });
  ASSERT_TRUE(manager_->ReconcileOnce().ok());
  compute_.OnDescribe(nullptr);
  EXPECT_TRUE(promoted);
  EXPECT_FALSE(compute_.instances().at(shadow).read_only) << "a promotion is not fenced";
}

}  // namespace
}  // namespace shadowplane::reservation
