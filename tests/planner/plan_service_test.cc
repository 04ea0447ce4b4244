// PlanService over a real PostgreSQL (label pg): a reservation placed by the reservation manager
// on fake compute, stored forecasts with joint sample paths written as the refresher would, and
// the dry run's answer: costs, gates and the decision; no forecast, a stale one, a running
// migration; bad input named; nothing stored.
#include "planner/plan_service.h"

#include <pqxx/pqxx>

#include "migration/migration_manager.h"
#include "planner/plan_test_fixture.h"
#include "planner/planner_overrides_codec.h"
#include "store/sql_time.h"

namespace shadowplane::planner {
namespace {

TEST_F(PlanServiceTest, DemandFromTheOtherSideIsARecommendationWithItsCostsAndGates) {
  StoreForecast(reservation_.resource_id, 100, 20000);
  absl::StatusOr<PlanDecision> d = PlanOne();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->outcome, PlanOutcome::kRecommend) << d->reason;
  EXPECT_EQ(d->from_location, "fra-1");
  EXPECT_EQ(d->to_location, "iad-1");
  EXPECT_DOUBLE_EQ(d->confidence, 1.0);
  ASSERT_TRUE(d->blocking.has_value());
  EXPECT_EQ(*d->blocking, PlanGate::kMode);
  ASSERT_EQ(d->candidates.size(), 2u);
  const CandidateExplanation& here = d->candidates[0];
  const CandidateExplanation& there = d->candidates[1];
  // 24 h (the default horizon) of 0.5 vCPU at $0.04 and 0.25 GiB at $0.005 (the seeded prices).
  EXPECT_NEAR(here.terms.compute, 24 * (0.5 * 0.04 + 0.25 * 0.005), 1e-9);
  EXPECT_GT(here.terms.latency, there.terms.latency);
  EXPECT_EQ(there.confidence_source, "sample_paths");
  EXPECT_GT(there.expected_saving, 0);
  EXPECT_LE(there.saving.p10, there.saving.p90);
  for (const GateCheck& g : d->gates) {
    if (g.gate != PlanGate::kMode) {
      EXPECT_TRUE(g.passed) << PlanGateName(g.gate) << g.detail;
    }
  }
  // A dry run with the threshold above what a path can give: the threshold blocks.
  PlanQuery strict;
  strict.migration_threshold = 1.0;
  strict.horizon = absl::Hours(1);
  d = PlanOne(strict);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->horizon, absl::Hours(1));
}

TEST_F(PlanServiceTest, EgressIsPricedFromTheBytesEachRegionWasServed) {
  // Last week's demand from the US: 10 requests of 1 MB each (5 MB each the day before).
  ASSERT_TRUE(
      pool_
          ->Run("demand",
                [&](pqxx::connection& c) -> absl::Status {
                  pqxx::work txn(c);
                  txn.exec(
                      "UPDATE locations SET bandwidth_price_per_gb = CASE name WHEN "
                      "'fra-1' THEN 0.02 ELSE 0.09 END");
                  for (int day : {1, 2}) {
                    txn.exec_params(
                        "INSERT INTO demand_hourly (resource_id, origin_region, hour, requests, "
                        "bytes_out, clients_hll) VALUES ($1::uuid, 'us', $2::timestamptz, 10, "
                        "$3, '')",
                        reservation_.resource_id,
                        store::ToSqlTime(clock_.Now() - absl::Hours(24 * day)),
                        day == 1 ? 10'000'000 : 50'000'000);
                  }
                  txn.commit();
                  return absl::OkStatus();
                })
          .ok());
  // Forecast after it: the window sums carry the bytes per request of the week before.
  StoreForecast(reservation_.resource_id, 100, 20000);
  absl::StatusOr<PlanDecision> d = PlanOne();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->demand_read, "window_sums");
  // 3 MB a request on average; 20000 US requests an hour for 24 h, at $0.02 (fra-1) and $0.09
  // (iad-1) per GB.
  ASSERT_EQ(d->candidates.size(), 2u);
  for (const CandidateExplanation& c : d->candidates) {
    const double price = c.location == "fra-1" ? 0.02 : 0.09;
    EXPECT_GT(c.terms.egress, 0) << c.location;
    EXPECT_NEAR(c.terms.egress, 20000.0 * 24 * 3e6 / 1e9 * price, 1e-6 * (1 + c.terms.egress))
        << c.location;
  }
  // From the paths (12 h has no sums), the bytes per request are read up to now: the same.
  PlanQuery twelve;
  twelve.horizon = absl::Hours(12);
  d = PlanOne(twelve);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->demand_read, "sample_paths");
  for (const CandidateExplanation& c : d->candidates) {
    const double price = c.location == "fra-1" ? 0.02 : 0.09;
    EXPECT_NEAR(c.terms.egress, 20000.0 * 12 * 3e6 / 1e9 * price, 1e-6 * (1 + c.terms.egress))
        << c.location;
  }
}

TEST_F(PlanServiceTest, AReservationsOwnLongDwellLooksFurtherBackThanTheDefaults) {
  // A move three days ago; the defaults (dwell 2 h) would read two days of history and miss it.
  migration::MigrationManager manager(migrations_.get(), reservations_.get(), locations_.get(),
                                      &fencing_->leases, nullptr, &clock_, nullptr);
  const absl::Time now = clock_.Now();
  clock_.Advance(-absl::Hours(72));
  migration::MigrateSpec spec;
  spec.request_id = "old-move";
  spec.reservation_id = reservation_.id;
  spec.target_location = "iad-1";
  spec.reason = "test";
  absl::StatusOr<store::MigrationRecord> m = manager.Migrate(spec);
  ASSERT_TRUE(m.ok()) << m.status();
  clock_.Advance(now - clock_.Now());
  ASSERT_TRUE(pool_
                  ->Run("finishing",
                        [&](pqxx::connection& c) -> absl::Status {
                          pqxx::work txn(c);
                          txn.exec_params(
                              "UPDATE migrations SET state = 'DONE', switched_at = $2::timestamptz "
                              "WHERE id = $1::uuid",
                              m->id, store::ToSqlTime(now - absl::Hours(72)));
                          txn.commit();
                          return absl::OkStatus();
                        })
                  .ok());
  store::ReservationRecord r = reservations_->Get(reservation_.id).value();
  PlannerOverrides overrides;
  overrides.min_dwell = absl::Hours(24 * 5);
  r.planner_overrides_json = OverridesToJson(overrides);
  ASSERT_TRUE(reservations_->UpdateSettings(r, now).ok());
  StoreForecast(reservation_.resource_id, 100, 20000);
  absl::StatusOr<PlanDecision> d = PlanOne();
  ASSERT_TRUE(d.ok()) << d.status();
  const GateCheck* dwell = Gate(*d, PlanGate::kDwell);
  ASSERT_NE(dwell, nullptr) << d->reason;
  EXPECT_FALSE(dwell->passed) << dwell->detail;
}

TEST_F(PlanServiceTest, TheWindowSumsDecideAsThePathsDo) {
  // The same stored forecasts decided from their window sums (the fixture's service) and from
  // the paths themselves (a service without the sums' source), for demand that moves, demand
  // that stays, and demand near the threshold.
  PlanService::Sources paths_only = sources_;
  paths_only.forecasts = nullptr;
  paths_only.events = nullptr;
  PlanService from_paths(paths_only, plan_options_);
  int compared = 0;
  for (const auto& [eu, us] :
       std::vector<std::pair<double, double>>{{100, 20000}, {20000, 100}, {3000, 2600}, {0, 0}}) {
    StoreForecast(reservation_.resource_id, eu, us);
    absl::StatusOr<PlanDecision> summed = PlanOne();
    PlanQuery query;
    query.resource_id = reservation_.resource_id;
    absl::StatusOr<PlanPage> direct = from_paths.Plan(query);
    ASSERT_TRUE(summed.ok()) << summed.status();
    ASSERT_TRUE(direct.ok()) << direct.status();
    const PlanDecision& want = direct->decisions.at(0);
    EXPECT_EQ(summed->outcome, want.outcome) << eu << "/" << us << ": " << summed->reason;
    EXPECT_EQ(summed->to_location, want.to_location) << eu << "/" << us;
    EXPECT_NEAR(summed->confidence, want.confidence, 1e-9) << eu << "/" << us;
    ASSERT_EQ(summed->candidates.size(), want.candidates.size());
    for (size_t c = 0; c < want.candidates.size(); ++c) {
      const CandidateExplanation& a = summed->candidates[c];
      const CandidateExplanation& b = want.candidates[c];
      // Paths are stored as 16-bit codes; the sums are made from the values before coding.
      const double tolerance = 1e-4 * (1 + std::abs(b.expected_saving));
      EXPECT_NEAR(a.expected_saving, b.expected_saving, tolerance) << b.location;
      EXPECT_NEAR(a.terms.latency, b.terms.latency, 1e-4 * (1 + b.terms.latency)) << b.location;
      EXPECT_NEAR(a.saving.p50, b.saving.p50, tolerance) << b.location;
      EXPECT_EQ(a.confidence_source, b.confidence_source) << b.location;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 8);
}

TEST_F(PlanServiceTest, AnotherWindowOrAKnownEventOverItIsDecidedFromThePaths) {
  // Sums that disagree with the paths on purpose (no US demand): which the planner read shows in
  // the decision. The paths say move to iad-1; the sums say stay.
  StoreForecast(reservation_.resource_id, 100, 20000, absl::ZeroDuration(), true,
                [](std::vector<store::PathSumsRecord>& sums) {
                  for (store::PathSumsRecord& s : sums) {
                    for (size_t i = 1; i < s.sums.size(); i += 2) s.sums[i] = 0;
                    s.expected[1] = 0;
                  }
                });
  auto outcome = [&](PlanQuery query = {}) {
    absl::StatusOr<PlanDecision> d = PlanOne(query);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? d->outcome : PlanOutcome::kStay;
  };
  EXPECT_EQ(outcome(), PlanOutcome::kStay) << "the sums are read";
  PlanQuery twelve;
  twelve.horizon = absl::Hours(12);
  EXPECT_EQ(outcome(twelve), PlanOutcome::kRecommend) << "no sums over 12 h: the paths";

  // An event over the window for another resource leaves the sums standing; one for this
  // resource, or for every resource's US demand, does not.
  const store::ReservationRecord other = Reserve("web-2");
  auto add_event = [&](std::vector<std::string> resources,
                       std::vector<std::string> regions) -> std::string {
    store::EventRecord e;
    e.kind = "campaign";
    e.name = "launch";
    e.resource_ids = std::move(resources);
    e.regions = std::move(regions);
    e.starts_at = clock_.Now() + absl::Hours(3);
    e.ends_at = clock_.Now() + absl::Hours(5);
    e.expected_uplift = 1.0;
    e.created_at = clock_.Now();
    bool created = false;
    absl::StatusOr<store::EventRecord> stored = events_->Insert(e, &created);
    EXPECT_TRUE(stored.ok()) << stored.status();
    return stored.ok() ? stored->id : "";
  };
  add_event({other.resource_id}, {});
  EXPECT_EQ(outcome(), PlanOutcome::kStay) << "another resource's event";
  const std::string mine = add_event({reservation_.resource_id}, {});
  EXPECT_EQ(outcome(), PlanOutcome::kRecommend) << "this resource's event: the paths";
  ASSERT_TRUE(events_->Delete(mine).ok());
  EXPECT_EQ(outcome(), PlanOutcome::kStay);
  add_event({}, {"us"});
  EXPECT_EQ(outcome(), PlanOutcome::kRecommend) << "every resource's US demand: the paths";
}

TEST_F(PlanServiceTest, NoStoredForecastOrAStaleOneKeepsTheResourceAndSaysWhy) {
  absl::StatusOr<PlanDecision> d = PlanOne();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->outcome, PlanOutcome::kStay);
  ASSERT_NE(Gate(*d, PlanGate::kNoForecast), nullptr);
  EXPECT_FALSE(Gate(*d, PlanGate::kNoForecast)->passed);
  EXPECT_NE(Gate(*d, PlanGate::kNoForecast)->detail.find("no stored forecast"), std::string::npos)
      << Gate(*d, PlanGate::kNoForecast)->detail;

  StoreForecast(reservation_.resource_id, 100, 20000, absl::Hours(3));
  d = PlanOne();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->outcome, PlanOutcome::kBlocked) << d->reason;
  EXPECT_EQ(*d->blocking, PlanGate::kStaleForecast);
}

TEST_F(PlanServiceTest, ARunningMigrationBlocksAndEveryActiveReservationIsPlannedByPage) {
  StoreForecast(reservation_.resource_id, 100, 20000);
  migration::MigrationManager manager(migrations_.get(), reservations_.get(), locations_.get(),
                                      &fencing_->leases, nullptr, &clock_, nullptr);
  migration::MigrateSpec spec;
  spec.request_id = "move-1";
  spec.reservation_id = reservation_.id;
  spec.target_location = "iad-1";
  spec.reason = "test";
  ASSERT_TRUE(manager.Migrate(spec).ok());
  absl::StatusOr<PlanDecision> d = PlanOne();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->outcome, PlanOutcome::kBlocked);
  EXPECT_EQ(*d->blocking, PlanGate::kMigrationInProgress);

  const store::ReservationRecord second = Reserve("web-2");
  PlanQuery all;
  all.page_size = 1;
  absl::StatusOr<PlanPage> page = plans_->Plan(all);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->decisions.size(), 1u);
  ASSERT_FALSE(page->next_page_token.empty());
  all.page_token = page->next_page_token;
  absl::StatusOr<PlanPage> rest = plans_->Plan(all);
  ASSERT_TRUE(rest.ok()) << rest.status();
  ASSERT_EQ(rest->decisions.size(), 1u);
  EXPECT_NE(rest->decisions[0].resource_id, page->decisions[0].resource_id);
  all.page_token = rest->next_page_token;
  if (!all.page_token.empty()) {
    EXPECT_TRUE(plans_->Plan(all)->decisions.empty());
  }
}

TEST_F(PlanServiceTest, BadInputIsRefusedNamingTheFieldAndNothingIsStored) {
  StoreForecast(reservation_.resource_id, 100, 20000);
  struct Case {
    PlanQuery query;
    absl::StatusCode code;
    std::string names;
  };
  std::vector<Case> cases;
  auto add = [&](std::function<void(PlanQuery&)> bad, absl::StatusCode code, std::string names) {
    PlanQuery q;
    q.resource_id = reservation_.resource_id;
    bad(q);
    cases.push_back({q, code, names});
  };
  const auto invalid = absl::StatusCode::kInvalidArgument;
  add([](PlanQuery& q) { q.migration_threshold = 1.5; }, invalid, "migration_threshold");
  add([](PlanQuery& q) { q.migration_threshold = std::nan(""); }, invalid, "migration_threshold");
  add([](PlanQuery& q) { q.horizon = absl::Minutes(90); }, invalid, "horizon");
  add([](PlanQuery& q) { q.horizon = absl::ZeroDuration(); }, invalid, "horizon");
  add([](PlanQuery& q) { q.horizon = absl::Hours(kHours + 1); }, invalid, "horizon");
  add([](PlanQuery& q) { q.page_size = -1; }, invalid, "page_size");
  add([](PlanQuery& q) { q.page_size = 100000; }, invalid, "page_size");
  add(
      [](PlanQuery& q) {
        q.resource_id.clear();
        q.page_token = "x' OR 1=1";
      },
      invalid, "page_token");
  add([](PlanQuery& q) { q.resource_id = "00000000-0000-4000-8000-000000000000"; },
      absl::StatusCode::kNotFound, "");
  for (const Case& c : cases) {
    absl::StatusOr<PlanPage> page = plans_->Plan(c.query);
    ASSERT_FALSE(page.ok()) << c.names;
    EXPECT_EQ(page.status().code(), c.code) << page.status();
    EXPECT_NE(page.status().message().find(c.names), std::string::npos) << page.status();
  }
  // A dry run stores nothing: no migration, and the forecast as it was.
  store::MigrationFilter filter;
  EXPECT_TRUE(migrations_->List(filter)->empty());
  EXPECT_EQ(forecasts_->Latest(reservation_.resource_id)->size(), 3u);
}

}  // namespace
}  // namespace shadowplane::planner
