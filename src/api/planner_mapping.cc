#include "api/planner_mapping.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status_macros.h"

namespace shadowplane::api {

namespace pb = shadowplane::v1;

namespace {

void GatesToProto(const std::vector<planner::GateCheck>& gates,
                  google::protobuf::RepeatedPtrField<pb::PlanGateCheck>* out) {
  for (const planner::GateCheck& g : gates) {
    pb::PlanGateCheck* check = out->Add();
    check->set_gate(planner::PlanGateName(g.gate));
    check->set_passed(g.passed);
    check->set_detail(g.detail);
  }
}

void SpreadToProto(const planner::Spread& s, pb::CostSpread* out) {
  out->set_p10(s.p10);
  out->set_p50(s.p50);
  out->set_p90(s.p90);
}

}  // namespace

absl::StatusOr<planner::PlanQuery> FromProto(const pb::PlanRequest& request) {
  using google::protobuf::util::TimeUtil;
  planner::PlanQuery query;
  query.resource_id = request.resource_id();
  if (request.has_migration_threshold()) query.migration_threshold = request.migration_threshold();
  if (request.has_horizon()) {
    const google::protobuf::Duration& h = request.horizon();
    if (h.seconds() < 0 || h.nanos() < 0 || h.seconds() > TimeUtil::kDurationMaxSeconds) {
      return absl::InvalidArgumentError("horizon must be a non-negative duration");
    }
    query.horizon = FromProtoDuration(h);
  }
  query.page_size = request.page_size();
  query.page_token = request.page_token();
  return query;
}

void ToProto(const planner::PlanDecision& d, pb::ResourcePlan* out) {
  out->set_resource_id(d.resource_id);
  *out->mutable_decided_at() = ToProtoTime(d.decided_at);
  out->set_outcome(planner::PlanOutcomeName(d.outcome));
  out->set_from_location(d.from_location);
  out->set_to_location(d.to_location);
  out->set_from_capacity_type(CapacityTypeName(d.from_capacity_type));
  if (!d.to_location.empty()) out->set_to_capacity_type(CapacityTypeName(d.to_capacity_type));
  out->set_confidence(d.confidence);
  out->set_expected_saving(d.expected_saving);
  out->set_mode(planner::PlannerModeName(d.mode));
  out->set_migration_threshold(d.threshold);
  *out->mutable_horizon() = ToProtoDuration(d.horizon);
  GatesToProto(d.gates, out->mutable_gates());
  for (const planner::CandidateExplanation& c : d.candidates) {
    pb::CandidateCost* cost = out->add_candidates();
    cost->set_location(c.location);
    cost->set_capacity_type(CapacityTypeName(c.capacity_type));
    cost->set_price_basis(c.price_basis);
    cost->set_interruption_probability(c.terms.interruption_probability);
    cost->set_spot_risk(c.terms.spot_risk);
    cost->set_current(c.current);
    cost->set_skipped(c.skipped);
    cost->set_compute(c.terms.compute);
    cost->set_electricity(c.terms.electricity);
    cost->set_latency(c.terms.latency);
    cost->set_egress(c.terms.egress);
    cost->set_expected_total(c.terms.expected_total());
    cost->set_mean_rtt_ms(c.terms.latency_ms);
    SpreadToProto(c.path_cost, cost->mutable_path_total());
    cost->set_move_cost(c.move_cost);
    cost->set_affinity_cost(c.affinity_cost);
    cost->set_expected_saving(c.expected_saving);
    SpreadToProto(c.saving, cost->mutable_saving());
    cost->set_margin(c.margin);
    cost->set_confidence(c.confidence);
    cost->set_confidence_source(c.confidence_source);
    GatesToProto(c.gates, cost->mutable_gates());
  }
  if (d.blocking.has_value()) out->set_blocking_gate(planner::PlanGateName(*d.blocking));
  out->set_reason(d.reason);
  pb::ClientAffinity* affinity = out->mutable_affinity();
  affinity->set_affine_clients(d.affinity.clients);
  *affinity->mutable_session() = ToProtoDuration(d.affinity.session);
  affinity->set_price_per_disrupted_session(d.affinity.price_per_session);
  affinity->set_expected_sessions_at_cutover(d.affinity.expected_sessions);
  affinity->set_cost(d.affinity.cost);
  if (d.timing.has_value()) {
    const planner::CutoverTiming& t = d.timing->cutover;
    pb::CutoverTiming* timing = out->mutable_timing();
    *timing->mutable_start_at() = ToProtoTime(t.start_at);
    *timing->mutable_cutover_at() = ToProtoTime(t.cutover_at);
    if (t.shift_at.has_value()) *timing->mutable_shift_at() = ToProtoTime(*t.shift_at);
    *timing->mutable_precopy_estimate() = ToProtoDuration(d.timing->precopy.domain);
    timing->set_bandwidth_bytes_per_second(d.timing->precopy.bandwidth);
    timing->set_bandwidth_source(d.timing->precopy.bandwidth_source);
    timing->set_dirty_bytes_per_second(d.timing->dirty_bytes_per_second);
    timing->set_requests_at_cutover(t.requests_at_cutover);
    timing->set_late(t.late);
    if (t.late) *timing->mutable_late_by() = ToProtoDuration(t.late_by);
    timing->set_why(t.why);
    timing->set_hold(t.hold);
  }
}

void ToProto(const planner::PlanPage& page, pb::PlanResponse* out) {
  for (const planner::PlanDecision& d : page.decisions) ToProto(d, out->add_plans());
  out->set_next_page_token(page.next_page_token);
}

namespace {

absl::StatusOr<absl::Duration> CheckedDuration(const google::protobuf::Duration& d,
                                               const char* field) {
  using google::protobuf::util::TimeUtil;
  if (d.seconds() < -TimeUtil::kDurationMaxSeconds || d.seconds() > TimeUtil::kDurationMaxSeconds ||
      d.nanos() <= -1000000000 || d.nanos() >= 1000000000) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is out of range"));
  }
  return FromProtoDuration(d);
}

}  // namespace

absl::StatusOr<planner::PlannerOverrides> FromProto(const pb::PlannerOverrides& in) {
  planner::PlannerOverrides o;
  if (in.has_mode()) {
    planner::PlannerMode mode;
    if (!planner::ParsePlannerMode(in.mode(), &mode)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "planner.mode must be off, recommend or auto, got \"", in.mode().substr(0, 64), "\""));
    }
    o.mode = mode;
  }
  if (in.has_migration_threshold()) o.migration_threshold = in.migration_threshold();
  if (in.has_min_dwell()) {
    ASSIGN_OR_RETURN(o.min_dwell, CheckedDuration(in.min_dwell(), "planner.min_dwell"));
  }
  if (in.has_max_moves_per_day()) o.max_moves_per_day = in.max_moves_per_day();
  if (in.has_hysteresis_relative()) o.hysteresis_relative = in.hysteresis_relative();
  if (in.has_hysteresis_absolute()) o.hysteresis_absolute = in.hysteresis_absolute();
  if (in.has_return_cooldown()) {
    ASSIGN_OR_RETURN(o.return_cooldown,
                     CheckedDuration(in.return_cooldown(), "planner.return_cooldown"));
  }
  if (in.has_return_saving_multiple()) o.return_saving_multiple = in.return_saving_multiple();
  if (in.has_pinned_location()) {
    // A location's name is short (catalog/): a longer one is not echoed back in errors.
    if (in.pinned_location().size() > 128) {
      return absl::InvalidArgumentError("planner.pinned_location is over 128 bytes");
    }
    o.pinned_location = in.pinned_location();
  }
  if (in.blackouts_size() > 100) {
    return absl::InvalidArgumentError("planner.blackouts: at most 100 windows");
  }
  if (in.blackouts_size() > 0) {
    std::vector<planner::BlackoutWindow> windows;
    for (const pb::BlackoutWindow& w : in.blackouts()) {
      ASSIGN_OR_RETURN(const absl::Time start, CheckedProtoTime(w.start(), "planner.blackouts"));
      ASSIGN_OR_RETURN(const absl::Time end, CheckedProtoTime(w.end(), "planner.blackouts"));
      // Stored in whole seconds.
      windows.push_back({absl::FromUnixSeconds(absl::ToUnixSeconds(start)),
                         absl::FromUnixSeconds(absl::ToUnixSeconds(end))});
    }
    o.blackouts = std::move(windows);
  }
  return o;
}

void ToProto(const planner::PlannerOverrides& o, pb::PlannerOverrides* out) {
  if (o.mode) out->set_mode(planner::PlannerModeName(*o.mode));
  if (o.migration_threshold) out->set_migration_threshold(*o.migration_threshold);
  if (o.min_dwell) *out->mutable_min_dwell() = ToProtoDuration(*o.min_dwell);
  if (o.max_moves_per_day) out->set_max_moves_per_day(*o.max_moves_per_day);
  if (o.hysteresis_relative) out->set_hysteresis_relative(*o.hysteresis_relative);
  if (o.hysteresis_absolute) out->set_hysteresis_absolute(*o.hysteresis_absolute);
  if (o.return_cooldown) *out->mutable_return_cooldown() = ToProtoDuration(*o.return_cooldown);
  if (o.return_saving_multiple) out->set_return_saving_multiple(*o.return_saving_multiple);
  if (o.pinned_location) out->set_pinned_location(*o.pinned_location);
  if (o.blackouts) {
    for (const planner::BlackoutWindow& w : *o.blackouts) {
      pb::BlackoutWindow* window = out->add_blackouts();
      *window->mutable_start() = ToProtoTime(w.start);
      *window->mutable_end() = ToProtoTime(w.end);
    }
  }
}

std::string ExplanationJson(const planner::PlanDecision& decision) {
  pb::ResourcePlan plan;
  ToProto(decision, &plan);
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(plan, &json).ok()) return "{}";
  return json;
}

absl::StatusOr<planner::DecisionQuery> FromProto(const pb::ListDecisionsRequest& request) {
  planner::DecisionQuery q;
  q.resource_id = request.resource_id();
  q.outcome = request.outcome();
  if (request.has_from()) {
    ASSIGN_OR_RETURN(q.from, CheckedProtoTime(request.from(), "from"));
  }
  if (request.has_to()) {
    ASSIGN_OR_RETURN(q.to, CheckedProtoTime(request.to(), "to"));
  }
  q.page_size = request.page_size();
  q.page_token = request.page_token();
  return q;
}

void ToProto(const store::DecisionRecord& d, bool with_explanation, pb::Decision* out) {
  out->set_id(d.id);
  out->set_resource_id(d.resource_id);
  out->set_reservation_id(d.reservation_id);
  *out->mutable_decided_at() = ToProtoTime(d.decided_at);
  *out->mutable_confirmed_at() = ToProtoTime(d.confirmed_at);
  out->set_outcome(d.outcome);
  out->set_blocking_gate(d.blocking_gate);
  out->set_from_location(d.from_location);
  out->set_to_location(d.to_location);
  out->set_to_capacity_type(d.to_capacity_type);
  out->set_confidence(d.confidence);
  out->set_expected_saving(d.expected_saving);
  out->set_mode(d.mode);
  out->set_migration_threshold(d.threshold);
  *out->mutable_horizon() = ToProtoDuration(d.horizon);
  out->set_reason(d.reason);
  out->set_migration_id(d.migration_id);
  if (d.start_at) *out->mutable_start_at() = ToProtoTime(*d.start_at);
  if (d.cutover_at) *out->mutable_cutover_at() = ToProtoTime(*d.cutover_at);
  if (d.ended_at) *out->mutable_ended_at() = ToProtoTime(*d.ended_at);
  out->set_end_note(d.end_note);
  if (with_explanation) {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;  // written by an older or newer version
    if (!google::protobuf::util::JsonStringToMessage(d.explanation_json, out->mutable_explanation(),
                                                     options)
             .ok()) {
      out->clear_explanation();
    }
  }
}

namespace {

void ControlToProto(const store::ControlRecord& c, pb::PlannerControl* out) {
  *out->mutable_at() = ToProtoTime(c.at);
  out->set_action(c.action);
  out->set_actor(c.actor);
  out->set_reason(c.reason);
}

}  // namespace

void ToProto(const std::vector<planner::CalibrationBucket>& buckets,
             pb::GetCalibrationResponse* out) {
  for (const planner::CalibrationBucket& b : buckets) {
    pb::CalibrationBucket* o = out->add_buckets();
    o->set_confidence_low(b.low);
    o->set_confidence_high(b.high);
    o->set_moves(b.moves);
    o->set_paid_off(b.paid_off);
    o->set_paid_off_share(b.paid_off_share());
    o->set_mean_confidence(b.mean_confidence);
    o->set_mean_predicted_saving(b.mean_predicted_saving);
    o->set_mean_realized_saving(b.mean_realized_saving);
    out->set_moves(out->moves() + b.moves);
    out->set_paid_off(out->paid_off() + b.paid_off);
  }
}

void ToProto(const planner::PlannerStatus& status, int max_planned_moves_per_hour,
             pb::PlannerStatus* out) {
  out->set_paused(status.paused);
  if (status.last_control.has_value())
    ControlToProto(*status.last_control, out->mutable_last_control());
  for (const store::ControlRecord& c : status.recent_controls) {
    ControlToProto(c, out->add_recent_controls());
  }
  out->set_planned_moves_last_hour(status.planned_moves_last_hour);
  out->set_max_planned_moves_per_hour(max_planned_moves_per_hour);
}

}  // namespace shadowplane::api
