#include "providers/compute/local/local_compute_provider.h"

#include <grpcpp/grpcpp.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/agent_protocol.h"
#include "common/backoff.h"
#include "common/grpc_client_status.h"
#include "common/log.h"
#include "common/retriable.h"
#include "common/status_macros.h"
#include "common/transport_security.h"

namespace shadowplane::providers {

namespace pb = shadowplane::agent::v1;

namespace {

pb::Capacity ToProto(const Capacity& c) {
  pb::Capacity out;
  out.set_millicores(c.millicores);
  out.set_memory_mib(c.memory_mib);
  out.set_type(c.type == CapacityType::kSpot ? pb::SPOT : pb::ON_DEMAND);
  return out;
}

void ToProto(const WriteGrant& g, pb::WriteGrant* out) {
  out->set_epoch(g.epoch);
  out->set_lease_ms(absl::ToInt64Milliseconds(g.lease));
}

InstanceInfo FromProto(const std::string& location, const pb::Instance& i) {
  InstanceInfo info;
  info.instance_id = i.instance_id();
  info.resource_id = i.resource_id();
  info.location = location;
  info.capacity = {i.capacity().millicores(), i.capacity().memory_mib(),
                   i.capacity().type() == pb::SPOT ? CapacityType::kSpot : CapacityType::kOnDemand};
  info.read_only = i.read_only();
  info.hold_writes = i.hold_writes();
  info.forward_writes_to = i.forward_writes_to();
  info.epoch = i.epoch();
  info.write_lease_left = absl::Milliseconds(i.write_lease_remaining_ms());
  switch (i.state()) {
    case pb::Instance::STARTING:
      info.state = InstanceRunState::kStarting;
      break;
    case pb::Instance::RUNNING:
      info.state = InstanceRunState::kRunning;
      break;
    case pb::Instance::RESTARTING:
      info.state = InstanceRunState::kRestarting;
      break;
    case pb::Instance::DELETED:
      info.state = InstanceRunState::kDeleted;
      break;
    default:
      info.state = InstanceRunState::kStopped;
  }
  info.endpoint = i.endpoint();
  info.restarts = i.restarts();
  info.requests = i.requests();
  info.bytes_received = i.bytes_received();
  info.bytes_sent = i.bytes_sent();
  return info;
}

}  // namespace

LocalComputeProvider::LocalComputeProvider(ComputeProviderContext context)
    : context_(std::move(context)) {
  if (context_.metrics == nullptr) return;
  call_seconds_ = &prometheus::BuildHistogram()
                       .Name("shadowplane_compute_provider_call_seconds")
                       .Help("Latency of compute provider calls, retries included")
                       .Register(*context_.metrics);
  errors_ = &prometheus::BuildCounter()
                 .Name("shadowplane_compute_provider_errors_total")
                 .Help("Compute provider calls that failed, after retries")
                 .Register(*context_.metrics);
}

absl::StatusOr<LocalComputeProvider::Agent*> LocalComputeProvider::AgentFor(
    const std::string& location) {
  if (location.empty()) return absl::InvalidArgumentError("location is required");
  if (!context_.location_endpoint) {
    return absl::FailedPreconditionError("the local compute provider has no location directory");
  }
  ASSIGN_OR_RETURN(const std::string endpoint, context_.location_endpoint(location));
  absl::MutexLock lock(&mu_);
  // By location too: the peer identity a channel checks is the location's.
  std::unique_ptr<Agent>& agent = agents_[absl::StrCat(location, " ", endpoint)];
  if (agent == nullptr) {
    agent = std::make_unique<Agent>();
    agent->endpoint = endpoint;
    const std::shared_ptr<const TransportSecurity>& security =
        context_.security != nullptr ? context_.security : TransportSecurity::Insecure();
    agent->stub = pb::AgentService::NewStub(security->Channel(endpoint, AgentIdentity(location)));
  }
  return agent.get();
}

template <typename Rpc>
absl::Status LocalComputeProvider::Call(const std::string& location, const char* what, Rpc rpc) {
  const absl::Time start = absl::Now();
  absl::Status result = CallWithRetries(location, what, rpc);
  if (call_seconds_ != nullptr) {
    call_seconds_
        ->Add({{"provider", "local"}, {"method", what}},
              prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15})
        .Observe(absl::ToDoubleSeconds(absl::Now() - start));
    if (!result.ok()) {
      errors_
          ->Add({{"provider", "local"},
                 {"method", what},
                 {"code", absl::StatusCodeToString(result.code())}})
          .Increment();
    }
  }
  return result;
}

template <typename Rpc>
absl::Status LocalComputeProvider::CallWithRetries(const std::string& location, const char* what,
                                                   Rpc rpc) {
  ASSIGN_OR_RETURN(Agent * agent, AgentFor(location));
  const std::string where = absl::StrCat("agent ", agent->endpoint, " of location ", location);
  bool greeted;
  {
    absl::MutexLock lock(&mu_);
    greeted = agent->greeted;
  }
  Backoff backoff(absl::Milliseconds(100), absl::Seconds(2));
  grpc::Status status;
  for (int attempt = 1; attempt <= std::max(1, context_.max_attempts); ++attempt) {
    if (!greeted) {
      grpc::ClientContext hello_context;
      hello_context.set_deadline(absl::ToChronoTime(absl::Now() + context_.call_timeout));
      pb::HelloResponse hello;
      status = agent->stub->Hello(&hello_context, pb::HelloRequest(), &hello);
      if (status.ok()) {
        if (hello.max_protocol_version() < kAgentProtocolVersion ||
            hello.min_protocol_version() > kAgentProtocolVersion) {
          return absl::FailedPreconditionError(absl::StrCat(
              where, " speaks agent protocol ", hello.min_protocol_version(), "..",
              hello.max_protocol_version(), "; this server speaks ", kAgentProtocolVersion));
        }
        greeted = true;
        absl::MutexLock lock(&mu_);
        agent->greeted = true;
      }
    }
    if (greeted) {
      grpc::ClientContext call_context;
      call_context.set_deadline(absl::ToChronoTime(absl::Now() + context_.call_timeout));
      call_context.AddMetadata(kAgentProtocolMetadataKey, absl::StrCat(kAgentProtocolVersion));
      status = rpc(*agent->stub, &call_context);
    }
    if (status.ok() || !IsRetriable(static_cast<absl::StatusCode>(status.error_code()))) break;
    if (attempt < context_.max_attempts) {
      const absl::Duration delay = backoff.Next();
      LOG_EVENT(kWarning, "agent call failed, retrying")
          .Field("call", what)
          .Field("agent", agent->endpoint)
          .Field("attempt", attempt)
          .Field("error", status.error_message())
          .Field("retry_in_seconds", delay);
      absl::SleepFor(delay);
    }
  }
  return FromGrpcStatus(status, absl::StrCat(what, " at ", where));
}

absl::StatusOr<InstanceInfo> LocalComputeProvider::CreateInstance(const InstanceSpec& spec) {
  pb::CreateInstanceRequest request;
  request.set_instance_id(spec.instance_id);
  request.set_resource_id(spec.resource_id);
  *request.mutable_capacity() = ToProto(spec.capacity);
  request.set_read_only(spec.read_only);
  request.set_seed_dir(spec.seed_dir);
  request.set_forward_secret(spec.forward_secret);
  if (!spec.read_only) ToProto(spec.grant, request.mutable_grant());
  pb::Instance response;
  RETURN_IF_ERROR(Call(spec.location, "CreateInstance", [&](auto& stub, auto* ctx) {
    return stub.CreateInstance(ctx, request, &response);
  }));
  return FromProto(spec.location, response);
}

absl::StatusOr<InstanceInfo> LocalComputeProvider::ScaleInstance(const std::string& location,
                                                                 const std::string& instance_id,
                                                                 const Capacity& capacity) {
  pb::ScaleInstanceRequest request;
  request.set_instance_id(instance_id);
  *request.mutable_capacity() = ToProto(capacity);
  pb::Instance response;
  RETURN_IF_ERROR(Call(location, "ScaleInstance", [&](auto& stub, auto* ctx) {
    return stub.ScaleInstance(ctx, request, &response);
  }));
  return FromProto(location, response);
}

absl::StatusOr<InstanceInfo> LocalComputeProvider::SetReadOnly(const std::string& location,
                                                               const std::string& instance_id,
                                                               bool read_only) {
  pb::SetReadOnlyRequest request;
  request.set_instance_id(instance_id);
  request.set_read_only(read_only);
  pb::Instance response;
  RETURN_IF_ERROR(Call(location, "SetReadOnly", [&](auto& stub, auto* ctx) {
    return stub.SetReadOnly(ctx, request, &response);
  }));
  return FromProto(location, response);
}

absl::StatusOr<InstanceInfo> LocalComputeProvider::GrantWrites(const std::string& location,
                                                               const std::string& instance_id,
                                                               const WriteGrant& grant) {
  pb::SetReadOnlyRequest request;
  request.set_instance_id(instance_id);
  request.set_read_only(false);
  ToProto(grant, request.mutable_grant());
  pb::Instance response;
  RETURN_IF_ERROR(Call(location, "GrantWrites", [&](auto& stub, auto* ctx) {
    return stub.SetReadOnly(ctx, request, &response);
  }));
  return FromProto(location, response);
}

absl::StatusOr<InstanceInfo> LocalComputeProvider::SetWriteRouting(const std::string& location,
                                                                   const std::string& instance_id,
                                                                   const WriteRouting& routing) {
  pb::SetWriteRoutingRequest request;
  request.set_instance_id(instance_id);
  request.set_hold_writes(routing.hold_writes);
  request.set_hold_ms(static_cast<int32_t>(absl::ToInt64Milliseconds(routing.hold)));
  request.set_forward_writes_to(routing.forward_writes_to);
  request.set_forward_secret(routing.forward_secret);
  pb::Instance response;
  RETURN_IF_ERROR(Call(location, "SetWriteRouting", [&](auto& stub, auto* ctx) {
    return stub.SetWriteRouting(ctx, request, &response);
  }));
  return FromProto(location, response);
}

absl::StatusOr<InstanceInfo> LocalComputeProvider::DeactivateInstance(
    const std::string& location, const std::string& instance_id, bool delete_data) {
  pb::DeactivateInstanceRequest request;
  request.set_instance_id(instance_id);
  request.set_delete_data(delete_data);
  pb::Instance response;
  RETURN_IF_ERROR(Call(location, "DeactivateInstance", [&](auto& stub, auto* ctx) {
    return stub.DeactivateInstance(ctx, request, &response);
  }));
  return FromProto(location, response);
}

absl::StatusOr<InstanceInfo> LocalComputeProvider::DescribeInstance(
    const std::string& location, const std::string& instance_id) {
  pb::DescribeInstanceRequest request;
  request.set_instance_id(instance_id);
  pb::Instance response;
  RETURN_IF_ERROR(Call(location, "DescribeInstance", [&](auto& stub, auto* ctx) {
    return stub.DescribeInstance(ctx, request, &response);
  }));
  return FromProto(location, response);
}

absl::StatusOr<InstanceDisruptions> LocalComputeProvider::Disruptions(
    const std::string& location, const std::string& instance_id, absl::Time since) {
  pb::GetInstanceDisruptionsRequest request;
  request.set_instance_id(instance_id);
  request.set_since_unix_us(std::max<int64_t>(0, absl::ToUnixMicros(since)));
  pb::InstanceDisruptions response;
  RETURN_IF_ERROR(Call(location, "GetInstanceDisruptions", [&](auto& stub, auto* ctx) {
    return stub.GetInstanceDisruptions(ctx, request, &response);
  }));
  InstanceDisruptions out;
  out.truncated = response.truncated();
  for (const pb::ClientDisruption& c : response.clients()) {
    out.clients.push_back(
        {c.client(), c.held(), c.failed(), c.forwarded(), c.closed(), c.stale_reads()});
  }
  return out;
}

absl::StatusOr<std::vector<InstanceInfo>> LocalComputeProvider::ListInstances(
    const std::string& location) {
  pb::ListInstancesResponse response;
  RETURN_IF_ERROR(Call(location, "ListInstances", [&](auto& stub, auto* ctx) {
    return stub.ListInstances(ctx, pb::ListInstancesRequest(), &response);
  }));
  std::vector<InstanceInfo> out;
  for (const pb::Instance& i : response.instances()) out.push_back(FromProto(location, i));
  return out;
}

absl::Status RegisterLocalComputeProvider(ComputeProviderRegistry& registry) {
  return registry.Register("local",
                           [](const ComputeProviderContext& context)
                               -> absl::StatusOr<std::unique_ptr<ComputeProvider>> {
                             return std::make_unique<LocalComputeProvider>(context);
                           });
}

}  // namespace shadowplane::providers
