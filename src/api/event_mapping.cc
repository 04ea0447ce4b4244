#include "api/event_mapping.h"

#include "common/proto_time.h"
#include "common/status_macros.h"

namespace shadowplane::api {

namespace pb = shadowplane::v1;

absl::StatusOr<forecast::EventRegistration> FromProto(const pb::RegisterEventRequest& request) {
  forecast::EventRegistration r;
  r.request_id = request.request_id();
  r.kind = request.kind();
  r.name = request.name();
  r.resource_ids.assign(request.resource_ids().begin(), request.resource_ids().end());
  r.regions.assign(request.regions().begin(), request.regions().end());
  if (request.has_start_time()) {
    ASSIGN_OR_RETURN(r.starts_at, CheckedProtoTime(request.start_time(), "start_time"));
  }
  if (request.has_end_time()) {
    ASSIGN_OR_RETURN(r.ends_at, CheckedProtoTime(request.end_time(), "end_time"));
  }
  if (request.has_expected_uplift()) r.expected_uplift = request.expected_uplift();
  return r;
}

absl::StatusOr<forecast::EventQuery> FromProto(const pb::ListEventsRequest& request) {
  forecast::EventQuery q;
  q.resource_id = request.resource_id();
  q.region = request.region();
  q.kind = request.kind();
  if (request.has_ending_after()) {
    ASSIGN_OR_RETURN(q.ending_after, CheckedProtoTime(request.ending_after(), "ending_after"));
  }
  q.page_size = request.page_size();
  q.page_token = request.page_token();
  return q;
}

void ToProto(const store::EventRecord& e, pb::Event* out) {
  out->set_event_id(e.id);
  out->set_request_id(e.request_id);
  out->set_kind(e.kind);
  out->set_name(e.name);
  for (const std::string& r : e.resource_ids) out->add_resource_ids(r);
  for (const std::string& r : e.regions) out->add_regions(r);
  *out->mutable_start_time() = ToProtoTime(e.starts_at);
  *out->mutable_end_time() = ToProtoTime(e.ends_at);
  if (e.expected_uplift.has_value()) out->set_expected_uplift(*e.expected_uplift);
  *out->mutable_create_time() = ToProtoTime(e.created_at);
  if (e.measured_at.has_value()) *out->mutable_measure_time() = ToProtoTime(*e.measured_at);
}

void ToProto(const forecast::EventWithOutcomes& event, pb::Event* out) {
  ToProto(event.event, out);
  for (const store::EventOutcomeRecord& o : event.outcomes) {
    pb::EventOutcome* outcome = out->add_outcomes();
    outcome->set_resource_id(o.resource_id);
    outcome->set_hours(o.hours);
    outcome->set_actual(o.actual);
    outcome->set_baseline(o.baseline);
    outcome->set_uplift(o.baseline > 0 ? o.actual / o.baseline : 0);
  }
}

}  // namespace shadowplane::api
