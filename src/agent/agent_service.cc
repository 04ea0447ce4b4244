#include "agent/agent_service.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/agent_peer_check.h"
#include "agent/agent_protocol_check.h"
#include "common/agent_protocol.h"
#include "common/grpc_status.h"
#include "common/grpc_unary.h"
#include "common/status_macros.h"

namespace shadowplane::agent {

namespace pb = shadowplane::agent::v1;

namespace {

absl::StatusOr<Capacity> FromProto(const pb::Capacity& c) {
  Capacity capacity{c.millicores(), c.memory_mib(), CapacityType::kOnDemand};
  switch (c.type()) {
    case pb::ON_DEMAND:
    case pb::CAPACITY_TYPE_UNSPECIFIED:  // on-demand unless spot is asked for
      break;
    case pb::SPOT:
      capacity.type = CapacityType::kSpot;
      break;
    default:
      return absl::InvalidArgumentError("capacity.type is not a known capacity type");
  }
  return capacity;
}

void ToProto(const Capacity& c, pb::Capacity* out) {
  out->set_millicores(c.millicores);
  out->set_memory_mib(c.memory_mib);
  out->set_type(c.type == CapacityType::kSpot ? pb::SPOT : pb::ON_DEMAND);
}

void ToProto(const agent::InstanceView& v, pb::Instance* out) {
  out->set_instance_id(v.config.instance_id);
  out->set_resource_id(v.config.resource_id);
  ToProto(v.config.capacity, out->mutable_capacity());
  out->set_read_only(v.config.read_only);
  out->set_hold_writes(v.config.hold_writes);
  out->set_forward_writes_to(v.config.forward_writes_to);
  switch (v.state) {
    case agent::InstanceState::kStarting:
      out->set_state(pb::Instance::STARTING);
      break;
    case agent::InstanceState::kRunning:
      out->set_state(pb::Instance::RUNNING);
      break;
    case agent::InstanceState::kRestarting:
      out->set_state(pb::Instance::RESTARTING);
      break;
    case agent::InstanceState::kStopped:
      out->set_state(pb::Instance::STOPPED);
      break;
  }
  out->set_endpoint(v.endpoint());
  out->set_pid(static_cast<int32_t>(v.pid));
  out->set_restarts(v.restarts);
  out->set_requests(v.requests);
  out->set_bytes_received(v.bytes_received);
  out->set_bytes_sent(v.bytes_sent);
  out->set_data_dir(v.data_dir);
  out->set_epoch(v.config.epoch);
  const int64_t left = v.config.write_lease_until_ms - absl::ToUnixMillis(absl::Now());
  out->set_write_lease_remaining_ms(v.config.read_only ? 0 : std::max<int64_t>(0, left));
}

constexpr int64_t kMinLeaseMs = 100, kMaxLeaseMs = 600000;

// The grant as this agent holds it: its lease counted from `received` (when the request arrived,
// which is before the control plane records it), so it never outlasts the control plane's record.
absl::StatusOr<agent::WriteGrant> FromProto(const pb::WriteGrant& g, absl::Time received) {
  if (g.epoch() < 1) return absl::InvalidArgumentError("grant.epoch must be 1 or more");
  if (g.lease_ms() < kMinLeaseMs || g.lease_ms() > kMaxLeaseMs) {
    return absl::InvalidArgumentError(absl::StrCat("grant.lease_ms must lie in [", kMinLeaseMs,
                                                   ", ", kMaxLeaseMs, "], got ", g.lease_ms()));
  }
  return agent::WriteGrant{g.epoch(), received + absl::Milliseconds(g.lease_ms())};
}

// Runs `fn` on `workers` after the caller and protocol checks and finishes the call with its
// status.
template <typename Fn>
grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context,
                                const google::protobuf::Message* request, WorkerPool* workers,
                                Fn fn) {
  absl::Status check = CheckPeer(context, AllowedPeers::kControlPlane);
  if (check.ok()) check = CheckProtocol(context);
  if (!check.ok()) return FinishWith(context, [&] { return check; });
  return FinishOnPool(context, request, workers, std::move(fn));
}

}  // namespace

grpc::ServerUnaryReactor* AgentService::Hello(grpc::CallbackServerContext* context,
                                              const pb::HelloRequest* request,
                                              pb::HelloResponse* response) {
  if (absl::Status peer = CheckPeer(context, AllowedPeers::kControlPlane); !peer.ok()) {
    return FinishWith(context, [&] { return peer; });
  }
  response->set_min_protocol_version(kMinAgentProtocolVersion);
  response->set_max_protocol_version(kAgentProtocolVersion);
  response->set_location(manager_->options().location);
  response->set_agent_version(SHADOWPLANE_VERSION);
  ToProto(manager_->total(), response->mutable_total_capacity());
  ToProto(manager_->used(), response->mutable_used_capacity());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AgentService::CreateInstance(grpc::CallbackServerContext* context,
                                                       const pb::CreateInstanceRequest* request,
                                                       pb::Instance* response) {
  const absl::Time received = absl::Now();
  return Serve(context, request, workers_, [this, request, response, received]() -> absl::Status {
    if (!request->has_capacity()) return absl::InvalidArgumentError("capacity is required");
    agent::CreateInstanceSpec spec;
    if (!request->read_only()) {
      ASSIGN_OR_RETURN(spec.grant, FromProto(request->grant(), received));
    }
    spec.instance_id = request->instance_id();
    spec.resource_id = request->resource_id();
    ASSIGN_OR_RETURN(spec.capacity, FromProto(request->capacity()));
    spec.read_only = request->read_only();
    spec.seed_dir = request->seed_dir();
    spec.forward_secret = request->forward_secret();
    ASSIGN_OR_RETURN(agent::InstanceView view, manager_->Create(spec));
    ToProto(view, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AgentService::ScaleInstance(grpc::CallbackServerContext* context,
                                                      const pb::ScaleInstanceRequest* request,
                                                      pb::Instance* response) {
  return Serve(context, request, workers_, [this, request, response]() -> absl::Status {
    if (!request->has_capacity()) return absl::InvalidArgumentError("capacity is required");
    ASSIGN_OR_RETURN(Capacity capacity, FromProto(request->capacity()));
    ASSIGN_OR_RETURN(agent::InstanceView view, manager_->Scale(request->instance_id(), capacity));
    ToProto(view, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AgentService::SetReadOnly(grpc::CallbackServerContext* context,
                                                    const pb::SetReadOnlyRequest* request,
                                                    pb::Instance* response) {
  const absl::Time received = absl::Now();
  return Serve(context, request, workers_, [this, request, response, received]() -> absl::Status {
    agent::WriteGrant grant;
    if (!request->read_only()) {
      ASSIGN_OR_RETURN(grant, FromProto(request->grant(), received));
    }
    ASSIGN_OR_RETURN(agent::InstanceView view,
                     manager_->SetReadOnly(request->instance_id(), request->read_only(), grant));
    ToProto(view, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AgentService::SetWriteRouting(grpc::CallbackServerContext* context,
                                                        const pb::SetWriteRoutingRequest* request,
                                                        pb::Instance* response) {
  return Serve(context, request, workers_, [this, request, response]() -> absl::Status {
    ASSIGN_OR_RETURN(agent::InstanceView view,
                     manager_->SetWriteRouting(request->instance_id(), request->hold_writes(),
                                               request->hold_ms(), request->forward_writes_to(),
                                               request->forward_secret()));
    ToProto(view, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AgentService::DeactivateInstance(
    grpc::CallbackServerContext* context, const pb::DeactivateInstanceRequest* request,
    pb::Instance* response) {
  return Serve(context, request, workers_, [this, request, response]() -> absl::Status {
    ASSIGN_OR_RETURN(agent::InstanceView view,
                     manager_->Deactivate(request->instance_id(), request->delete_data()));
    ToProto(view, response);
    if (request->delete_data()) response->set_state(pb::Instance::DELETED);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AgentService::DescribeInstance(grpc::CallbackServerContext* context,
                                                         const pb::DescribeInstanceRequest* request,
                                                         pb::Instance* response) {
  return Serve(context, request, workers_, [this, request, response]() -> absl::Status {
    ASSIGN_OR_RETURN(agent::InstanceView view, manager_->Describe(request->instance_id()));
    ToProto(view, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AgentService::ListInstances(grpc::CallbackServerContext* context,
                                                      const pb::ListInstancesRequest* request,
                                                      pb::ListInstancesResponse* response) {
  return Serve(context, request, workers_, [this, request, response]() -> absl::Status {
    for (const agent::InstanceView& view : manager_->List())
      ToProto(view, response->add_instances());
    return absl::OkStatus();
  });
}

namespace {
constexpr int kMaxDisruptedClients = 20000;
}  // namespace

grpc::ServerUnaryReactor* AgentService::GetInstanceDisruptions(
    grpc::CallbackServerContext* context, const pb::GetInstanceDisruptionsRequest* request,
    pb::InstanceDisruptions* response) {
  return Serve(context, request, workers_, [this, request, response]() -> absl::Status {
    if (request->since_unix_us() < 0) {
      return absl::InvalidArgumentError("since_unix_us must not be negative");
    }
    ASSIGN_OR_RETURN(const instance::DisruptionReport report,
                     manager_->Disruptions(request->instance_id(),
                                           absl::FromUnixMicros(request->since_unix_us())));
    response->set_truncated(report.truncated);
    using K = instance::DisruptionKind;
    for (const auto& [client, d] : report.clients) {
      // Bounded so that the answer stays well under gRPC's 4 MiB message limit (keys are at most
      // 131 bytes); beyond it the counts are a lower bound, and say so.
      if (response->clients_size() >= kMaxDisruptedClients) {
        response->set_truncated(true);
        break;
      }
      pb::ClientDisruption* c = response->add_clients();
      c->set_client(client);
      c->set_held(d[K::kHeld]);
      c->set_failed(d[K::kFailed]);
      c->set_forwarded(d[K::kForwarded]);
      c->set_closed(d[K::kClosed]);
      c->set_stale_reads(d[K::kStaleRead]);
    }
    return absl::OkStatus();
  });
}

}  // namespace shadowplane::agent
