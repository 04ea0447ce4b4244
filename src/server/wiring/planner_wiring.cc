#include "server/wiring/planner_wiring.h"

#include "absl/strings/str_cat.h"
#include "api/planner_mapping.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace shadowplane::server {

forecast::PathSumsOptions PlannerPathSums(const ServerOptions& options) {
  forecast::PathSumsOptions sums;
  sums.window_hours = static_cast<int>(absl::ToInt64Hours(options.planning.plan_horizon));
  sums.starts = static_cast<int>(absl::ToInt64Hours(
                    absl::Ceil(options.planning.plan_max_forecast_age, absl::Hours(1)))) +
                2;
  sums.egress_history = planner::PlanServiceOptions().egress_history;
  return sums;
}

PlannerWiring::PlannerWiring(const ServerOptions& options, StorageWiring* storage,
                             ForecastWiring* forecasting, MigrationWiring* migrations,
                             const WiringContext& context)
    : settings_(options.planning),
      storage_(storage),
      context_(context),
      rtt_(PlacementRtt(options.placement, context)) {
  planner::PlanServiceOptions plan;
  plan.defaults = options.planning.Defaults();
  plan.prices = options.planning.Prices();
  plan.max_forecast_age = options.planning.plan_max_forecast_age;
  plan.spot_min_discount = options.planning.spot_min_discount;
  plan.spot_return_after = options.planning.spot_return_after;
  plan.sample_paths = options.forecast.sample_paths;
  plan.forecast_horizon_hours = options.forecast.max_horizon_hours;
  plan.max_planned_moves_per_hour = options.planning.max_planned_moves_per_hour;
  plan.timing.affinity_session = options.planning.affinity_session;
  plan.timing.plan_interval = options.planning.plan_interval;
  plan.timing.precopy.default_bandwidth = options.planning.default_sync_bandwidth_mib * (1 << 20);
  plan.timing.precopy.safety = options.planning.precopy_safety;
  plan.timing.precopy.max_rounds = options.migration.max_precopy_rounds;
  plan.timing.precopy.time_scale = options.process.time_scale;
  planner::PlanService::Sources sources;
  sources.reservations = storage->reservations();
  sources.locations = storage->locations();
  sources.migrations = storage->migrations();
  sources.decisions = storage->decisions();
  sources.telemetry = storage->telemetry();
  sources.forecasts = storage->forecasts();
  sources.events = storage->events();
  sources.affinity = storage->disruptions();
  sources.sync_runs = storage->sync_runs();
  sources.predictor = forecasting->predictor();
  sources.rtt = &rtt_;
  sources.clock = context.clock;
  // A cutover's final round at the pre-copy's dirty threshold, priced by the fitted model.
  migration::FreezeModelKeeper* keeper = migrations->freeze_model();
  const int64_t final_round_bytes = options.migration.cutover_dirty_bytes;
  sources.expected_freeze_seconds = [keeper, final_round_bytes]() -> absl::StatusOr<double> {
    ASSIGN_OR_RETURN(const migration::FreezeModel model, keeper->Current());
    return model.Expected(final_round_bytes, 0);
  };
  plans_ = std::make_unique<planner::PlanService>(std::move(sources), std::move(plan));

  // A decision's migration: planned, idempotent by the decision's id.
  migration::MigrationManager* manager = migrations->manager();
  start_move_ = [manager](const planner::MoveOrder& order) -> absl::StatusOr<std::string> {
    migration::MigrateSpec spec;
    spec.request_id = absl::StrCat("planner-", order.decision_id);
    spec.reservation_id = order.reservation_id;
    spec.target_location = order.target_location;
    spec.capacity_type = order.capacity_type;
    spec.reason = order.reason.substr(0, 1000);
    spec.decision_id = order.decision_id;
    spec.predicted_saving = order.predicted_saving;
    spec.predicted_confidence = order.confidence;
    spec.cutover_after = order.cutover_after;
    ASSIGN_OR_RETURN(const store::MigrationRecord m, manager->Migrate(spec));
    return m.id;
  };
  planner::DecisionService::Sources decision_sources;
  decision_sources.decisions = storage->decisions();
  decision_sources.reservations = storage->reservations();
  decision_sources.start_move = start_move_;
  decision_sources.clock = context.clock;
  planner::DecisionServiceOptions decision_options;
  decision_options.plan_interval = options.planning.plan_interval;
  decisions_ =
      std::make_unique<planner::DecisionService>(std::move(decision_sources), decision_options);
}

PlannerWiring::~PlannerWiring() {
  if (loop_ != nullptr) loop_->Stop();  // a tick in progress ends between reservations
  task_.reset();
  if (workers_ != nullptr) workers_->Shutdown();
}

void PlannerWiring::StartLoop(const std::string& replica) {
  planner::PlannerLoopOptions options;
  options.owner = replica;
  options.interval = settings_.plan_interval;
  // Held across ticks (renewed at each, and as a long one goes), so the leader stays put; a
  // dead leader's lease frees after three intervals.
  options.lease_ttl = 3 * settings_.plan_interval;
  options.decision_retention = settings_.decision_retention;
  options.max_in_flight = 2 * settings_.planner_threads;
  workers_ =
      std::make_unique<WorkerPool>("planner", settings_.planner_threads, options.max_in_flight);
  planner::PlannerLoop::Sources sources;
  sources.plans = plans_.get();
  sources.reservations = storage_->reservations();
  sources.decisions = storage_->decisions();
  sources.leases = storage_->leases();
  sources.start_move = start_move_;
  sources.explain = [](const planner::PlanDecision& d) { return api::ExplanationJson(d); };
  sources.clock = context_.clock;
  sources.workers = workers_.get();
  loop_ = std::make_unique<planner::PlannerLoop>(std::move(sources), options, context_.registry);
  // Checked every second of real time; a tick runs when `interval` of domain time has passed.
  task_ = std::make_unique<PeriodicTask>(absl::Seconds(1), [this] {
    if (!context_.database_ready()) return;
    absl::StatusOr<planner::PlannerLoop::Tick> tick = loop_->RunOnce();
    (void)tick;  // the loop logs and counts its failures
  });
}

}  // namespace shadowplane::server
