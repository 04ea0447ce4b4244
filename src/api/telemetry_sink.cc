#include "api/telemetry_sink.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_channel_cache.h"
#include "common/grpc_client_status.h"
#include "shadowplane/v1/telemetry.grpc.pb.h"

namespace shadowplane::api {

namespace pb = shadowplane::v1;

namespace {

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t us = absl::ToUnixMicros(t);
  out->set_seconds(us / 1000000);
  out->set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
}

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  const int64_t us = absl::ToInt64Microseconds(d);
  out->set_seconds(us / 1000000);
  out->set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
}

absl::Duration DurationOf(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

}  // namespace

struct GrpcTelemetrySink::Channels {
  explicit Channels(std::shared_ptr<const TransportSecurity> security)
      : cache(std::move(security)) {}
  GrpcChannelCache cache;
};

pb::AccessBatch AccessBatchOf(const agent::TelemetryBatch& batch) {
  pb::AccessBatch out;
  out.set_batch_id(batch.batch_id);
  for (const agent::ShippedAccess& a : batch.events) {
    pb::AccessEvent* e = out.add_events();
    SetTime(a.at, e->mutable_time());
    e->set_client_ip(a.client_ip);
    e->set_client_id(a.client_id);
    e->set_resource_id(a.resource_id);
    e->set_instance_id(a.instance_id);
    e->set_request_type(a.request_type);
    e->set_bytes_in(a.bytes_in);
    e->set_bytes_out(a.bytes_out);
    e->set_latency_ms(a.latency_ms);
  }
  for (const agent::ShippedSample& s : batch.samples) {
    pb::UtilizationSample* u = out.add_samples();
    SetTime(s.at, u->mutable_time());
    u->set_instance_id(s.instance_id);
    SetDuration(s.interval, u->mutable_interval());
    u->set_cpu_seconds(s.cpu_seconds);
    u->set_memory_bytes(s.memory_bytes);
    u->set_net_bytes_in(s.net_bytes_in);
    u->set_net_bytes_out(s.net_bytes_out);
  }
  return out;
}

GrpcTelemetrySink::GrpcTelemetrySink(std::vector<std::string> control_plane,
                                     absl::Duration call_timeout, std::string token,
                                     std::shared_ptr<const TransportSecurity> security)
    : control_plane_(std::move(control_plane)),
      call_timeout_(call_timeout),
      token_(std::move(token)),
      channels_(std::make_unique<Channels>(std::move(security))) {}

GrpcTelemetrySink::~GrpcTelemetrySink() = default;

absl::StatusOr<agent::BatchVerdict> GrpcTelemetrySink::Send(const agent::TelemetryBatch& batch) {
  const pb::AccessBatch request = AccessBatchOf(batch);
  size_t first;
  {
    absl::MutexLock lock(&mu_);
    first = preferred_;
  }
  absl::Status last = absl::UnavailableError("no control plane configured");
  for (size_t attempt = 0; attempt < control_plane_.size(); ++attempt) {
    const size_t index = (first + attempt) % control_plane_.size();
    const std::string& endpoint = control_plane_[index];
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + call_timeout_));
    if (!token_.empty()) context.AddMetadata("authorization", "Bearer " + token_);
    pb::BatchAck ack;
    const grpc::Status status =
        pb::TelemetryService::NewStub(
            channels_->cache.Get(endpoint, std::string(kControlPlaneIdentity)))
            ->RecordAccessBatch(&context, request, &ack);
    agent::BatchVerdict verdict;
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      // The queue is full: this replica answered; wait as it says.
      verdict.kind = agent::BatchVerdict::Kind::kRetryLater;
      verdict.message = status.error_message();
      verdict.retry_after = absl::Seconds(1);
      const auto& trailers = context.GetServerTrailingMetadata();
      if (const auto it = trailers.find("retry-after-ms"); it != trailers.end()) {
        int64_t ms = 0;
        if (absl::SimpleAtoi(std::string(it->second.data(), it->second.size()), &ms) && ms > 0) {
          verdict.retry_after = absl::Milliseconds(std::min<int64_t>(ms, 60000));
        }
      }
      return verdict;
    }
    if (!status.ok()) {
      last = FromGrpcStatus(status, absl::StrCat("sending telemetry to ", endpoint));
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      preferred_ = index;
    }
    verdict.message = ack.message();
    verdict.retry_after = DurationOf(ack.retry_after());
    verdict.duplicate = ack.duplicate();
    for (const pb::Rejection& r : ack.rejections()) verdict.rejected += r.count();
    switch (static_cast<absl::StatusCode>(ack.code())) {
      case absl::StatusCode::kOk:
        verdict.kind = agent::BatchVerdict::Kind::kCommitted;
        break;
      case absl::StatusCode::kInvalidArgument:
        verdict.kind = agent::BatchVerdict::Kind::kRefused;
        break;
      default:
        verdict.kind = agent::BatchVerdict::Kind::kRetryLater;
        break;
    }
    return verdict;
  }
  return last;
}

}  // namespace shadowplane::api
