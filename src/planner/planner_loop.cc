#include "planner/planner_loop.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/bounded_batch.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace shadowplane::planner {

namespace {

std::string BlockingName(const PlanDecision& d) {
  return d.blocking.has_value() ? PlanGateName(*d.blocking) : "";
}

store::DecisionRecord RecordOf(const PlanDecision& d, const store::ReservationRecord& r,
                               std::string explanation) {
  store::DecisionRecord out;
  out.resource_id = d.resource_id;
  out.reservation_id = r.id;
  out.decided_at = d.decided_at;
  out.outcome = PlanOutcomeName(d.outcome);
  out.blocking_gate = BlockingName(d);
  out.from_location = d.from_location;
  out.to_location = d.to_location;
  if (!d.to_location.empty()) out.to_capacity_type = CapacityTypeName(d.to_capacity_type);
  out.confidence = d.confidence;
  out.expected_saving = d.expected_saving;
  out.mode = PlannerModeName(d.mode);
  out.threshold = d.threshold;
  out.horizon = d.horizon;
  out.reason = d.reason;
  out.explanation_json = std::move(explanation);
  out.reservation_updated_at = r.updated_at;
  if (d.timing.has_value()) {
    out.start_at = d.timing->cutover.start_at;
    out.cutover_at = d.timing->cutover.cutover_at;
  }
  return out;
}

// A decision to move that the fleet's budget cannot take this tick waits, and says so.
void BlockByBudget(PlanDecision* d, int budget) {
  const std::string detail =
      absl::StrCat("the fleet's budget of ", budget, " planned moves per hour is spent");
  for (GateCheck& g : d->gates) {
    if (g.gate == PlanGate::kFleetBudget) {
      g.passed = false;
      g.detail = detail;
    }
  }
  d->outcome = PlanOutcome::kBlocked;
  d->blocking = PlanGate::kFleetBudget;
  d->reason = absl::StrCat(d->reason, "; blocked by fleet_budget (", detail, ")");
}

}  // namespace

struct PlannerLoop::TickState {
  absl::Mutex mu;
  Tick tick ABSL_GUARDED_BY(mu);
  int budget_left ABSL_GUARDED_BY(mu) = 0;
  std::vector<store::DecisionRecord> to_record ABSL_GUARDED_BY(mu);
  std::vector<std::string> to_confirm ABSL_GUARDED_BY(mu);
  std::map<std::string, store::LastDecision> last;  // read-only during the tick
  // Open scheduled decisions by resource (read-only during the tick).
  std::map<std::string, store::LastDecision> scheduled;
};

PlannerLoop::PlannerLoop(Sources sources, PlannerLoopOptions options,
                         prometheus::Registry* registry)
    : sources_(std::move(sources)), options_(std::move(options)) {
  if (registry == nullptr) return;
  leader_ = &prometheus::BuildGauge()
                 .Name("shadowplane_planner_leader")
                 .Help("1 when this replica holds the planner lease")
                 .Register(*registry)
                 .Add({});
  planned_ = &prometheus::BuildGauge()
                  .Name("shadowplane_planner_resources_planned")
                  .Help("Reservations decided at the last planner tick")
                  .Register(*registry)
                  .Add({});
  paused_ = &prometheus::BuildGauge()
                 .Name("shadowplane_planner_paused")
                 .Help("1 when automatic moves are paused fleet-wide (PlannerService.Pause)")
                 .Register(*registry)
                 .Add({});
  pruned_ = &prometheus::BuildCounter()
                 .Name("shadowplane_planner_decisions_pruned_total")
                 .Help("Stored planner decisions deleted after --decision_retention")
                 .Register(*registry)
                 .Add({});
  ticks_ = &prometheus::BuildCounter()
                .Name("shadowplane_planner_ticks_total")
                .Help("Planner ticks by result: ok, failed (the database), skipped_overrun")
                .Register(*registry);
  skipped_ = &prometheus::BuildCounter()
                  .Name("shadowplane_planner_resources_skipped_total")
                  .Help(
                      "Reservations the planner could not judge, by reason: no_forecast, "
                      "stale_forecast, failed")
                  .Register(*registry);
  decisions_ = &prometheus::BuildCounter()
                    .Name("shadowplane_planner_decisions_total")
                    .Help(
                        "Planner decisions by outcome and blocking gate (none when nothing "
                        "blocked)")
                    .Register(*registry);
  demand_reads_ = &prometheus::BuildCounter()
                       .Name("shadowplane_planner_demand_reads_total")
                       .Help(
                           "Reservations planned by what their demand was read from: "
                           "window_sums, or sample_paths (another window, a known event, no sums)")
                       .Register(*registry);
  moves_ = &prometheus::BuildCounter()
                .Name("shadowplane_planner_moves_started_total")
                .Help("Planned migrations the planner asked for, by result")
                .Register(*registry);
  spot_returns_ =
      &prometheus::BuildCounter()
           .Name("shadowplane_spot_returns_total")
           .Help("Planned moves from on-demand back to spot capacity the planner started")
           .Register(*registry)
           .Add({});
  scheduled_ = &prometheus::BuildCounter()
                    .Name("shadowplane_planner_scheduled_moves_total")
                    .Help(
                        "Moves the planner timed for later (move at T), by what became of them: "
                        "scheduled, started, cancelled")
                    .Register(*registry);
  tick_seconds_ =
      &prometheus::BuildHistogram()
           .Name("shadowplane_planner_tick_seconds")
           .Help("Duration of a planner tick")
           .Register(*registry)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60});
  confidence_ = &prometheus::BuildHistogram()
                     .Name("shadowplane_planner_confidence")
                     .Help("Confidence of the best candidate in each decision with one")
                     .Register(*registry)
                     .Add({}, prometheus::Histogram::BucketBoundaries{0.1, 0.2, 0.3, 0.4, 0.5, 0.6,
                                                                      0.7, 0.8, 0.9, 0.95, 0.99});
}

absl::StatusOr<PlannerLoop::Tick> PlannerLoop::RunOnce() {
  Tick tick;
  if (stopping_) return tick;
  absl::MutexLock lock(&mu_);
  const absl::Time now = sources_.clock->Now();
  if (now < next_due_) return tick;
  ASSIGN_OR_RETURN(tick.leader,
                   sources_.leases->TryAcquire(kLeaseName, options_.owner, options_.lease_ttl));
  if (leader_ != nullptr) leader_->Set(tick.leader ? 1 : 0);
  if (!tick.leader) {
    next_due_ = now + options_.interval;  // another replica plans; ask again at the next tick
    return tick;
  }

  const absl::Time started = absl::Now();
  absl::StatusOr<Tick> ran = RunTick(now);
  if (tick_seconds_ != nullptr) {
    tick_seconds_->Observe(absl::ToDoubleSeconds(absl::Now() - started));
  }
  const absl::Duration took = sources_.clock->Now() - now;
  next_due_ = now + options_.interval;
  if (took > options_.interval) {
    // The tick ran into the next one's time: that one is skipped rather than run late.
    next_due_ += options_.interval;
    if (ticks_ != nullptr) ticks_->Add({{"result", "skipped_overrun"}}).Increment();
    LOG_EVENT(kWarning, "planner tick overran its interval; the next one is skipped")
        .Field("took_seconds", absl::ToDoubleSeconds(took))
        .Field("interval_seconds", absl::ToDoubleSeconds(options_.interval));
  }
  if (ticks_ != nullptr) ticks_->Add({{"result", ran.ok() ? "ok" : "failed"}}).Increment();
  if (!ran.ok()) {
    LOG_EVENT(kWarning, "planner tick failed").Field("error", ran.status());
    return ran.status();
  }
  ran->leader = true;
  ran->ran = true;
  return ran;
}

absl::StatusOr<PlannerLoop::Tick> PlannerLoop::RunTick(absl::Time now) {
  ASSIGN_OR_RETURN(const std::unique_ptr<PlanRound> round, sources_.plans->StartRound());
  if (paused_ != nullptr) paused_->Set(round->context.fleet.paused ? 1 : 0);
  TickState state;
  // Scheduled moves whose reservation was released or moved by other means never start.
  ASSIGN_OR_RETURN(const std::vector<store::EndedSchedule> stale,
                   sources_.decisions->CancelStaleScheduled(now));
  for (const store::EndedSchedule& e : stale) {
    if (scheduled_ != nullptr) scheduled_->Add({{"result", "cancelled"}}).Increment();
    LOG_EVENT(kInfo, "planner cancelled a scheduled move")
        .Field("decision_id", e.id)
        .Field("resource_id", e.resource_id)
        .Field("note", e.note);
  }
  ASSIGN_OR_RETURN(
      state.last, sources_.decisions->LatestSince(now - options_.record_every - options_.interval));
  state.tick.scheduled_cancelled = static_cast<int>(stale.size());
  ASSIGN_OR_RETURN(state.scheduled, sources_.decisions->OpenScheduled());
  {
    absl::MutexLock lock(&state.mu);
    state.budget_left = round->context.fleet.max_planned_moves_per_hour -
                        round->context.fleet.planned_moves_last_hour;
  }

  store::ReservationFilter filter;
  filter.state = "active";
  filter.page_size = options_.page_size;
  absl::Time renewed = absl::Now();
  absl::Status listing;
  // Writes the decisions taken so far, page by page, so that a tick holds at most a page and
  // what is in flight. Each row is whole; rows written before a failure stay.
  auto flush = [&]() -> absl::Status {
    std::vector<store::DecisionRecord> records;
    std::vector<std::string> confirm;
    {
      absl::MutexLock lock(&state.mu);
      records.swap(state.to_record);
      confirm.swap(state.to_confirm);
    }
    RETURN_IF_ERROR(sources_.decisions->InsertBatch(records));
    RETURN_IF_ERROR(sources_.decisions->Confirm(confirm, now));
    absl::MutexLock lock(&state.mu);
    state.tick.recorded += static_cast<int>(records.size());
    state.tick.confirmed += static_cast<int>(confirm.size());
    return absl::OkStatus();
  };
  // At most max_in_flight batches queued or being decided; waited for before `state` goes.
  BoundedBatch batch(sources_.workers, options_.max_in_flight);
  while (!stopping_) {
    absl::StatusOr<std::vector<store::ReservationRecord>> page =
        sources_.reservations->List(filter);
    if (!page.ok()) {
      listing = page.status();
      break;
    }
    if (page->empty()) break;
    const std::string last_id = page->back().id;  // the records are moved to the workers
    const bool last_page = static_cast<int>(page->size()) < filter.page_size;
    // Reservations go to the workers a batch at a time: the batch's inputs are read together.
    const size_t per_batch = static_cast<size_t>(std::max(1, options_.batch_size));
    for (size_t from = 0; from < page->size() && !stopping_; from += per_batch) {
      auto shared = std::make_shared<std::vector<store::ReservationRecord>>(
          std::make_move_iterator(page->begin() + static_cast<std::ptrdiff_t>(from)),
          std::make_move_iterator(page->begin() + static_cast<std::ptrdiff_t>(
                                                      std::min(page->size(), from + per_batch))));
      const bool queued = batch.Submit([this, shared, &round, &state] {
        if (stopping_) return;
        std::vector<absl::StatusOr<PlanDecision>> decided =
            sources_.plans->PlanReservations(*shared, *round);
        int failed = 0;
        for (size_t i = 0; i < shared->size(); ++i) {
          if (!Handle((*shared)[i], std::move(decided[i]), *round, &state)) ++failed;
        }
        absl::MutexLock lock(&state.mu);
        state.tick.failed += failed;
      });
      if (!queued) {  // the pool is shutting down
        stopping_ = true;
        break;
      }
    }
    if (last_page) break;
    filter.after = last_id;
    if (absl::Status written = flush(); !written.ok()) {
      listing = written;
      break;
    }
    if (absl::Now() - renewed > options_.lease_ttl / 3) {
      absl::StatusOr<bool> still =
          sources_.leases->TryAcquire(kLeaseName, options_.owner, options_.lease_ttl);
      renewed = absl::Now();
      if (!still.ok()) {
        listing = still.status();
        break;
      }
      if (!*still) break;  // another replica took over (this one stalled past the lease)
    }
  }
  batch.Wait();
  // Written even when listing failed part-way: each row is whole, and the next tick goes on.
  RETURN_IF_ERROR(flush());
  RETURN_IF_ERROR(listing);
  absl::MutexLock lock(&state.mu);
  Tick& tick = state.tick;
  ASSIGN_OR_RETURN(tick.pruned, sources_.decisions->PruneBefore(now - options_.decision_retention));
  if (pruned_ != nullptr) pruned_->Increment(static_cast<double>(tick.pruned));
  if (planned_ != nullptr) planned_->Set(tick.planned);
  LOG_EVENT(kInfo, "planner tick")
      .Field("planned", tick.planned)
      .Field("recorded", tick.recorded)
      .Field("skipped_stale", tick.skipped_stale)
      .Field("moves_started", tick.moves_started)
      .Field("moves_failed", tick.moves_failed)
      .Field("scheduled_cancelled", tick.scheduled_cancelled)
      .Field("failed", tick.failed)
      .Field("pruned", tick.pruned);
  return tick;
}

std::string PlannerLoop::Explain(const PlanDecision& d) const {
  return sources_.explain ? sources_.explain(d) : "{}";
}

bool PlannerLoop::Handle(const store::ReservationRecord& r, absl::StatusOr<PlanDecision> decided,
                         const PlanRound& round, TickState* state) {
  if (!decided.ok()) {
    if (skipped_ != nullptr) skipped_->Add({{"reason", "failed"}}).Increment();
    LOG_EVENT(kWarning, "planning a reservation failed")
        .Field("reservation_id", r.id)
        .Field("error", decided.status());
    return false;
  }
  PlanDecision& d = *decided;
  if (d.outcome == PlanOutcome::kMove) {
    absl::MutexLock lock(&state->mu);
    if (state->budget_left <= 0) {
      BlockByBudget(&d, round.context.fleet.max_planned_moves_per_hour);
    } else {
      --state->budget_left;
    }
  }
  const std::string blocking = BlockingName(d);
  const bool unjudged = blocking == "no_forecast" || blocking == "stale_forecast";
  if (unjudged && skipped_ != nullptr) skipped_->Add({{"reason", blocking}}).Increment();
  if (decisions_ != nullptr) {
    decisions_
        ->Add({{"outcome", PlanOutcomeName(d.outcome)},
               {"gate", blocking.empty() ? "none" : blocking}})
        .Increment();
  }
  if (confidence_ != nullptr && !d.to_location.empty()) confidence_->Observe(d.confidence);
  if (demand_reads_ != nullptr && !d.demand_read.empty()) {
    demand_reads_->Add({{"read", d.demand_read}}).Increment();
  }

  const auto last = state->last.find(d.resource_id);
  const auto open = state->scheduled.find(d.resource_id);
  const bool was_scheduled = open != state->scheduled.end();
  if (d.outcome == PlanOutcome::kScheduled) {
    const bool same = was_scheduled && open->second.to_location == d.to_location &&
                      d.decided_at - open->second.decided_at < options_.record_every;
    if (same) {
      absl::MutexLock lock(&state->mu);
      ++state->tick.planned;
      ++state->tick.outcomes[PlanOutcomeName(d.outcome)];
      state->to_confirm.push_back(open->second.id);
      return true;
    }
    // Written on its own for its id: the resource's earlier schedules end, replaced by it.
    absl::StatusOr<std::string> id = sources_.decisions->Insert(RecordOf(d, r, Explain(d)));
    if (!id.ok()) {
      LOG_EVENT(kWarning, "recording a scheduled move failed")
          .Field("resource_id", d.resource_id)
          .Field("error", id.status());
      return false;
    }
    if (!was_scheduled && scheduled_ != nullptr) {
      scheduled_->Add({{"result", "scheduled"}}).Increment();
    }
    EndScheduled(d.resource_id, absl::StrCat("replaced by decision ", *id), nullptr, *id);
    LOG_EVENT(kInfo, "planner scheduled a move")
        .Field("decision_id", *id)
        .Field("resource_id", d.resource_id)
        .Field("to", d.to_location)
        .Field("start_at", absl::FormatTime(d.timing->cutover.start_at))
        .Field("cutover_at", absl::FormatTime(d.timing->cutover.cutover_at));
    absl::MutexLock lock(&state->mu);
    ++state->tick.planned;
    ++state->tick.recorded;
    ++state->tick.outcomes[PlanOutcomeName(d.outcome)];
    return true;
  }
  if (was_scheduled && d.outcome != PlanOutcome::kMove) {
    // The move no longer passes (or no longer names this target): it never starts.
    EndScheduled(
        d.resource_id,
        absl::StrCat("cancelled: now ", PlanOutcomeName(d.outcome), ": ", d.reason.substr(0, 500)),
        "cancelled");
  }

  if (d.outcome != PlanOutcome::kMove) {
    const bool same =
        last != state->last.end() && last->second.outcome == PlanOutcomeName(d.outcome) &&
        last->second.to_location == d.to_location && last->second.blocking_gate == blocking &&
        d.decided_at - last->second.decided_at < options_.record_every;
    store::DecisionRecord record;
    if (!same) record = RecordOf(d, r, Explain(d));
    absl::MutexLock lock(&state->mu);
    ++state->tick.planned;
    ++state->tick.outcomes[PlanOutcomeName(d.outcome)];
    if (unjudged) ++state->tick.skipped_stale;
    if (same) {
      state->to_confirm.push_back(last->second.id);
    } else {
      state->to_record.push_back(std::move(record));
    }
    return true;
  }

  // A move: its decision is written first, then the migration that names it.
  absl::StatusOr<std::string> id = sources_.decisions->Insert(RecordOf(d, r, Explain(d)));
  if (!id.ok()) {
    LOG_EVENT(kWarning, "recording a decision to move failed")
        .Field("resource_id", d.resource_id)
        .Field("error", id.status());
    return false;
  }
  MoveOrder order;
  order.reservation_id = r.id;
  order.resource_id = r.resource_id;
  order.target_location = d.to_location;
  order.capacity_type = CapacityTypeName(d.to_capacity_type);
  order.decision_id = *id;
  order.reason = d.reason;
  order.predicted_saving = d.expected_saving;
  order.confidence = d.confidence;
  if (d.timing.has_value() && d.timing->cutover.hold) {
    order.cutover_after = d.timing->cutover.cutover_at;
  }
  absl::StatusOr<std::string> migration = sources_.start_move(order);
  if (was_scheduled) {
    EndScheduled(d.resource_id,
                 migration.ok() ? absl::StrCat("started as migration ", *migration)
                                : absl::StrCat("cancelled: its migration could not start: ",
                                               migration.status().message()),
                 migration.ok() ? "started" : "cancelled");
  }
  if (moves_ != nullptr) moves_->Add({{"result", migration.ok() ? "ok" : "failed"}}).Increment();
  if (migration.ok() && spot_returns_ != nullptr &&
      d.from_capacity_type == CapacityType::kOnDemand &&
      d.to_capacity_type == CapacityType::kSpot) {
    spot_returns_->Increment();
  }
  if (migration.ok()) {
    LOG_EVENT(kInfo, "planner started a migration")
        .Field("decision_id", *id)
        .Field("migration_id", *migration)
        .Field("resource_id", d.resource_id)
        .Field("from", d.from_location)
        .Field("to", d.to_location)
        .Field("confidence", d.confidence)
        .Field("expected_saving", d.expected_saving);
  } else {
    LOG_EVENT(kWarning, "planner could not start a migration")
        .Field("decision_id", *id)
        .Field("resource_id", d.resource_id)
        .Field("error", migration.status());
  }
  absl::MutexLock lock(&state->mu);
  ++state->tick.planned;
  ++state->tick.recorded;
  ++state->tick.outcomes[PlanOutcomeName(d.outcome)];
  migration.ok() ? ++state->tick.moves_started : ++state->tick.moves_failed;
  return true;
}

void PlannerLoop::EndScheduled(const std::string& resource_id, const std::string& note,
                               const char* result, const std::string& except_id) {
  absl::StatusOr<int64_t> ended =
      sources_.decisions->EndScheduled(resource_id, note, sources_.clock->Now(), except_id);
  if (!ended.ok()) {
    LOG_EVENT(kWarning, "ending a scheduled move failed")
        .Field("resource_id", resource_id)
        .Field("error", ended.status());
    return;
  }
  if (*ended > 0 && result != nullptr && scheduled_ != nullptr) {
    scheduled_->Add({{"result", result}}).Increment(static_cast<double>(*ended));
  }
  if (*ended > 0) {
    LOG_EVENT(kInfo, "scheduled move ended").Field("resource_id", resource_id).Field("note", note);
  }
}

}  // namespace shadowplane::planner
