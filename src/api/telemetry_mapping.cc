#include "api/telemetry_mapping.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status_macros.h"

namespace shadowplane::api {

namespace pb = shadowplane::v1;

namespace {

// Sets `time` from a present timestamp, or marks it malformed.
void TakeTime(const google::protobuf::Timestamp& t, std::optional<absl::Time>& time,
              bool& malformed) {
  absl::StatusOr<absl::Time> checked = CheckedProtoTime(t, "time");
  if (checked.ok()) {
    time = *checked;
  } else {
    malformed = true;
  }
}

}  // namespace

ingest::AccessBatch FromProto(pb::AccessBatch&& batch) {
  ingest::AccessBatch out;
  out.batch_id = std::move(*batch.mutable_batch_id());
  out.events.resize(batch.events_size());
  for (int i = 0; i < batch.events_size(); ++i) {
    pb::AccessEvent& e = *batch.mutable_events(i);
    ingest::AccessEvent& o = out.events[i];
    if (e.has_time()) TakeTime(e.time(), o.time, o.time_malformed);
    o.client_ip = std::move(*e.mutable_client_ip());
    o.resource_id = std::move(*e.mutable_resource_id());
    o.instance_id = std::move(*e.mutable_instance_id());
    o.request_type = std::move(*e.mutable_request_type());
    o.bytes_in = e.bytes_in();
    o.bytes_out = e.bytes_out();
    if (e.has_latency_ms()) o.latency_ms = e.latency_ms();
    o.cpu_millis = e.cpu_millis();
    o.memory_bytes = e.memory_bytes();
    o.client_id = std::move(*e.mutable_client_id());
    o.origin_region = std::move(*e.mutable_origin_region());
  }
  out.samples.resize(batch.samples_size());
  for (int i = 0; i < batch.samples_size(); ++i) {
    pb::UtilizationSample& s = *batch.mutable_samples(i);
    ingest::UtilizationSample& o = out.samples[i];
    if (s.has_time()) TakeTime(s.time(), o.time, o.time_malformed);
    o.instance_id = std::move(*s.mutable_instance_id());
    if (s.has_interval()) o.interval = FromProtoDuration(s.interval());
    o.cpu_seconds = s.cpu_seconds();
    o.memory_bytes = s.memory_bytes();
    o.net_bytes_in = s.net_bytes_in();
    o.net_bytes_out = s.net_bytes_out();
  }
  return out;
}

void ToProto(const ingest::BatchAck& ack, pb::BatchAck* out) {
  out->set_batch_id(ack.batch_id);
  out->set_code(static_cast<int>(ack.code));
  out->set_message(ack.message);
  if (ack.retry_after > absl::ZeroDuration()) {
    *out->mutable_retry_after() = ToProtoDuration(ack.retry_after);
  }
  out->set_events_accepted(ack.counts.events_accepted);
  out->set_events_demand_only(ack.counts.events_demand_only);
  out->set_samples_accepted(ack.counts.samples_accepted);
  for (const store::RejectionCount& r : ack.counts.rejections) {
    pb::Rejection* rejection = out->add_rejections();
    rejection->set_reason(r.reason);
    rejection->set_count(r.count);
    for (int i : r.first_events) rejection->add_first_event_indexes(i);
    for (int i : r.first_samples) rejection->add_first_sample_indexes(i);
  }
  out->set_duplicate(ack.duplicate);
}

absl::StatusOr<ingest::DemandQuery> FromProto(const pb::GetDemandRequest& request) {
  ingest::DemandQuery query;
  query.resource_id = request.resource_id();
  if (request.has_from()) {
    ASSIGN_OR_RETURN(query.from, CheckedProtoTime(request.from(), "from"));
  }
  if (request.has_to()) {
    ASSIGN_OR_RETURN(query.to, CheckedProtoTime(request.to(), "to"));
  }
  switch (request.granularity()) {
    case pb::GRANULARITY_UNSPECIFIED:
    case pb::GRANULARITY_HOUR:
      query.step = absl::Hours(1);
      break;
    case pb::GRANULARITY_DAY:
      query.step = absl::Hours(24);
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("granularity ", request.granularity(), " is not HOUR or DAY"));
  }
  return query;
}

namespace {

void SeriesToProto(const ingest::DemandSeries& series, pb::DemandSeries* out) {
  out->set_origin_region(series.origin_region);
  for (const ingest::DemandPoint& p : series.points) {
    pb::DemandPoint* point = out->add_points();
    *point->mutable_start() = ToProtoTime(p.start);
    point->set_requests(p.sums.requests);
    point->set_bytes_in(p.sums.bytes_in);
    point->set_bytes_out(p.sums.bytes_out);
    point->set_cpu_millis(p.sums.cpu_millis);
    point->set_memory_byte_sum(p.sums.memory_bytes);
    point->set_latency_ms_sum(p.sums.latency_ms_sum);
    point->set_latency_count(p.sums.latency_count);
    point->set_distinct_clients(p.distinct_clients);
  }
}

}  // namespace

void ToProto(const ingest::Demand& demand, pb::GetDemandResponse* out) {
  out->set_resource_id(demand.resource_id);
  *out->mutable_from() = ToProtoTime(demand.from);
  *out->mutable_to() = ToProtoTime(demand.to);
  out->set_granularity(demand.step == absl::Hours(1) ? pb::GRANULARITY_HOUR : pb::GRANULARITY_DAY);
  for (const ingest::DemandSeries& series : demand.regions) {
    SeriesToProto(series, out->add_regions());
  }
  SeriesToProto(demand.total, out->mutable_total());
}

}  // namespace shadowplane::api
