#include "planner/decision_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "store/uuid.h"

namespace shadowplane::planner {

namespace {

constexpr size_t kMaxReason = 1000;
constexpr size_t kMaxActor = 200;

// "<decided_at in Unix microseconds>:<id>" of the previous page's last row.
std::string TokenOf(const store::DecisionRecord& d) {
  return absl::StrCat(absl::ToUnixMicros(d.decided_at), ":", d.id);
}

bool ParseToken(const std::string& token, absl::Time* at, std::string* id) {
  const std::vector<std::string> parts = absl::StrSplit(token, absl::MaxSplits(':', 1));
  int64_t micros = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &micros) ||
      !store::LooksLikeUuid(parts[1])) {
    return false;
  }
  *at = absl::FromUnixMicros(micros);
  *id = parts[1];
  return true;
}

}  // namespace

DecisionService::DecisionService(Sources sources, DecisionServiceOptions options)
    : sources_(std::move(sources)), options_(std::move(options)) {}

absl::StatusOr<DecisionPage> DecisionService::List(const DecisionQuery& q) {
  if (!q.outcome.empty() && q.outcome != "stay" && q.outcome != "move" &&
      q.outcome != "recommend" && q.outcome != "blocked" && q.outcome != "scheduled" &&
      q.outcome != "fallback") {
    return absl::InvalidArgumentError(absl::StrCat(
        "outcome must be stay, move, recommend, blocked, scheduled or fallback, got \"",
        q.outcome.substr(0, 64), "\""));
  }
  if (q.from && q.to && *q.to <= *q.from) {
    return absl::InvalidArgumentError("to must be after from");
  }
  if (q.page_size < 0 || q.page_size > options_.max_page_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size must be within [0, ", options_.max_page_size, "]"));
  }
  if (!q.resource_id.empty() && !store::LooksLikeUuid(q.resource_id)) {
    return absl::InvalidArgumentError("resource_id is not a UUID");
  }
  store::DecisionFilter filter;
  filter.resource_id = q.resource_id;
  filter.outcome = q.outcome;
  filter.from = q.from;
  filter.to = q.to;
  filter.page_size = q.page_size == 0 ? 50 : q.page_size;
  if (!q.page_token.empty()) {
    absl::Time at;
    if (!ParseToken(q.page_token, &at, &filter.before_id)) {
      return absl::InvalidArgumentError("page_token is not one this service gave out");
    }
    filter.before_time = at;
  }
  DecisionPage page;
  ASSIGN_OR_RETURN(page.decisions, sources_.decisions->List(filter));
  if (static_cast<int>(page.decisions.size()) == filter.page_size) {
    page.next_page_token = TokenOf(page.decisions.back());
  }
  return page;
}

absl::StatusOr<store::DecisionRecord> DecisionService::Get(const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("decision_id is required");
  return sources_.decisions->Get(id);
}

absl::StatusOr<AppliedDecision> DecisionService::Apply(const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("decision_id is required");
  AppliedDecision out;
  ASSIGN_OR_RETURN(out.decision, sources_.decisions->Get(id));
  const store::DecisionRecord& d = out.decision;
  if (!d.migration_id.empty()) {  // applied before (or a move the loop made)
    out.migration_id = d.migration_id;
    return out;
  }
  if (d.outcome != "recommend") {
    return absl::FailedPreconditionError(
        absl::StrCat("decision ", id, " is ", d.outcome,
                     d.blocking_gate.empty() ? "" : absl::StrCat(" (", d.blocking_gate, ")"),
                     ": only a recommendation can be applied"));
  }
  const absl::Time now = sources_.clock->Now();
  if (now - d.confirmed_at > 2 * options_.plan_interval) {
    return absl::FailedPreconditionError(absl::StrCat(
        "decision ", id, " is stale: last confirmed ", absl::FormatTime(d.confirmed_at),
        ", more than two plan intervals ago; see the resource's newest decision"));
  }
  absl::StatusOr<store::ReservationRecord> r = sources_.reservations->Get(d.reservation_id);
  if (absl::IsNotFound(r.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("decision ", id, " is stale: its reservation is gone"));
  }
  RETURN_IF_ERROR(r.status());
  if (r->state != "active") {
    return absl::FailedPreconditionError(absl::StrCat("decision ", id, " is stale: reservation ",
                                                      r->id, " is ", r->state, ", not active"));
  }
  if (r->primary.location != d.from_location) {
    return absl::FailedPreconditionError(
        absl::StrCat("decision ", id, " is stale: the primary moved from ", d.from_location, " to ",
                     r->primary.location));
  }
  if (r->updated_at != d.reservation_updated_at) {
    return absl::FailedPreconditionError(absl::StrCat("decision ", id, " is stale: reservation ",
                                                      r->id, " changed after it was decided"));
  }
  // A migration of the resource still at work: the migrations refuse a second one with
  // FAILED_PRECONDITION naming it (one in OBSERVING is ended, as for any new move).
  MoveOrder order;
  order.reservation_id = d.reservation_id;
  order.resource_id = d.resource_id;
  order.target_location = d.to_location;
  order.capacity_type = d.to_capacity_type;
  order.decision_id = d.id;
  order.reason = absl::StrCat("applied: ", d.reason);
  order.predicted_saving = d.expected_saving;
  order.confidence = d.confidence;
  // The cutover time the planner chose, when it is still ahead.
  if (d.cutover_at.has_value() && *d.cutover_at > now) order.cutover_after = d.cutover_at;
  ASSIGN_OR_RETURN(out.migration_id, sources_.start_move(order));
  out.decision.migration_id = out.migration_id;
  LOG_EVENT(kInfo, "planner decision applied")
      .Field("decision_id", d.id)
      .Field("migration_id", out.migration_id)
      .Field("resource_id", d.resource_id)
      .Field("to", d.to_location);
  return out;
}

absl::StatusOr<PlannerStatus> DecisionService::Status() {
  PlannerStatus status;
  ASSIGN_OR_RETURN(status.recent_controls, sources_.decisions->Controls(20));
  if (!status.recent_controls.empty()) status.last_control = status.recent_controls.front();
  status.paused = status.last_control.has_value() && status.last_control->action == "pause";
  ASSIGN_OR_RETURN(status.planned_moves_last_hour,
                   sources_.decisions->PlannedMovesSince(sources_.clock->Now() - absl::Hours(1)));
  return status;
}

absl::StatusOr<std::vector<CalibrationBucket>> DecisionService::Calibration(absl::Time since) {
  ASSIGN_OR_RETURN(const std::vector<store::DecisionRepository::Judged> judged,
                   sources_.decisions->JudgedMoves(since));
  std::vector<JudgedMove> moves;
  moves.reserve(judged.size());
  for (const auto& j : judged) {
    moves.push_back({j.confidence, j.predicted_saving, j.realized_saving, j.paid_off});
  }
  return Calibrate(moves);
}

absl::StatusOr<PlannerStatus> DecisionService::Pause(const std::string& actor,
                                                     const std::string& reason) {
  return Control("pause", actor, reason);
}

absl::StatusOr<PlannerStatus> DecisionService::Resume(const std::string& actor,
                                                      const std::string& reason) {
  return Control("resume", actor, reason);
}

absl::StatusOr<PlannerStatus> DecisionService::Control(const std::string& action,
                                                       const std::string& actor,
                                                       const std::string& reason) {
  if (reason.size() > kMaxReason) {
    return absl::InvalidArgumentError(absl::StrCat("reason is over ", kMaxReason, " bytes"));
  }
  if (actor.size() > kMaxActor) {
    return absl::InvalidArgumentError(absl::StrCat("actor is over ", kMaxActor, " bytes"));
  }
  ASSIGN_OR_RETURN(PlannerStatus status, Status());
  const bool paused = action == "pause";
  // Already so: nothing to record. (Two operators pausing at once may both record; the state
  // is the same either way.)
  if (status.paused == paused) return status;
  store::ControlRecord c;
  c.at = sources_.clock->Now();
  c.action = action;
  c.actor = actor.empty() ? "unknown" : actor;
  c.reason = reason;
  ASSIGN_OR_RETURN(const store::ControlRecord recorded, sources_.decisions->RecordControl(c));
  LOG_EVENT(kWarning, paused ? "planner paused" : "planner resumed")
      .Field("actor", recorded.actor)
      .Field("reason", recorded.reason);
  return Status();
}

}  // namespace shadowplane::planner
