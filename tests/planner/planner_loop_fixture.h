// The planner loop over a real PostgreSQL (label pg), with the migration manager behind its moves
// and the decision service over its records (tests/planner/plan_test_fixture.h underneath).
#ifndef SHADOWPLANE_TESTS_PLANNER_PLANNER_LOOP_FIXTURE_H_
#define SHADOWPLANE_TESTS_PLANNER_PLANNER_LOOP_FIXTURE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "migration/migration_manager.h"
#include "planner/decision_service.h"
#include "planner/plan_test_fixture.h"
#include "planner/planner_loop.h"
#include "prometheus/registry.h"
#include "store/lease_store.h"

namespace shadowplane::planner {

class PlannerLoopTest : public PlanServiceTest {
 protected:
  void SetUp() override {
    PlanServiceTest::SetUp();
    if (HasFatalFailure()) return;
    leases_ = std::make_unique<store::LeaseStore>(pool_.get());
    manager_ = std::make_unique<migration::MigrationManager>(migrations_.get(), reservations_.get(),
                                                             locations_.get(), &fencing_->leases,
                                                             nullptr, &clock_, nullptr);
    start_move_ = [this](const MoveOrder& order) -> absl::StatusOr<std::string> {
      migration::MigrateSpec spec;
      spec.request_id = "planner-" + order.decision_id;
      spec.reservation_id = order.reservation_id;
      spec.target_location = order.target_location;
      spec.reason = order.reason;
      spec.decision_id = order.decision_id;
      spec.predicted_saving = order.predicted_saving;
      spec.predicted_confidence = order.confidence;
      spec.cutover_after = order.cutover_after;
      ASSIGN_OR_RETURN(const store::MigrationRecord m, manager_->Migrate(spec));
      return m.id;
    };
    DecisionService::Sources ds;
    ds.decisions = decisions_.get();
    ds.reservations = reservations_.get();
    ds.start_move = start_move_;
    ds.clock = &clock_;
    service_ = std::make_unique<DecisionService>(ds, DecisionServiceOptions());
    BuildLoop();
  }

  void BuildLoop(int page_size = 1, int batch_size = 50, prometheus::Registry* registry = nullptr) {
    PlannerLoop::Sources s;
    s.plans = plans_.get();
    s.reservations = reservations_.get();
    s.decisions = decisions_.get();
    s.leases = leases_.get();
    s.start_move = start_move_;
    s.explain = [this](const PlanDecision& d) {
      if (explain_hook_) explain_hook_();
      return std::string("{\"resourceId\":\"") + d.resource_id + "\"}";
    };
    s.clock = &clock_;
    s.workers = &workers_;
    PlannerLoopOptions options;
    options.owner = "test";
    options.page_size = page_size;  // 1: every page boundary is crossed
    options.batch_size = batch_size;
    loop_ = std::make_unique<PlannerLoop>(s, options, registry);
  }

  PlannerLoop::Tick Tick() {
    absl::StatusOr<PlannerLoop::Tick> t = loop_->RunOnce();
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : PlannerLoop::Tick();
  }

  std::vector<store::DecisionRecord> Decisions(const std::string& resource_id = "") {
    DecisionQuery q;
    q.resource_id = resource_id;
    q.page_size = 500;
    absl::StatusOr<DecisionPage> page = service_->List(q);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->decisions : std::vector<store::DecisionRecord>{};
  }

  std::vector<store::MigrationRecord> Migrations() {
    return migrations_->List(store::MigrationFilter()).value();
  }

  void UseMode(PlannerMode mode, int budget = 20) {
    plan_options_.defaults.mode = mode;
    plan_options_.max_planned_moves_per_hour = budget;
    RebuildPlans();
    BuildLoop();
  }

  WorkerPool workers_{"planner", 2, 4};
  std::unique_ptr<store::LeaseStore> leases_;
  std::unique_ptr<migration::MigrationManager> manager_;
  std::function<absl::StatusOr<std::string>(const MoveOrder&)> start_move_;
  std::unique_ptr<DecisionService> service_;
  std::function<void()> explain_hook_;
  std::unique_ptr<PlannerLoop> loop_;
};

// The value of a counter with these labels (0 when it was never incremented).
inline double CounterValue(prometheus::Registry& registry, const std::string& name,
                           const std::map<std::string, std::string>& labels) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      std::map<std::string, std::string> have;
      for (const prometheus::ClientMetric::Label& l : metric.label) have[l.name] = l.value;
      if (have == labels) return metric.counter.value;
    }
  }
  return 0;
}

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_TESTS_PLANNER_PLANNER_LOOP_FIXTURE_H_
