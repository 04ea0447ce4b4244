// The `local` compute provider: drives the shadowplane-agent of each location over the agent
// protocol (proto/shadowplane/agent/v1/agent.proto). Each call has a deadline; UNAVAILABLE and
// DEADLINE_EXCEEDED are retried with backoff (every agent call is idempotent: instance ids are
// chosen by the caller). The first call to an agent checks, with Hello, that it speaks our
// protocol version, and refuses clearly (FAILED_PRECONDITION) when it does not. Thread-safe.
#ifndef SHADOWPLANE_PROVIDERS_COMPUTE_LOCAL_LOCAL_COMPUTE_PROVIDER_H_
#define SHADOWPLANE_PROVIDERS_COMPUTE_LOCAL_LOCAL_COMPUTE_PROVIDER_H_

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "providers/compute_provider.h"
#include "providers/compute_provider_registry.h"
#include "shadowplane/agent/v1/agent.grpc.pb.h"

namespace prometheus {
class Counter;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane::providers {

class LocalComputeProvider final : public ComputeProvider {
 public:
  // Metrics (when the context has a registry): shadowplane_compute_provider_call_seconds and
  // shadowplane_compute_provider_errors_total, labelled provider="local", method (and code).
  explicit LocalComputeProvider(ComputeProviderContext context);

  absl::StatusOr<InstanceInfo> CreateInstance(const InstanceSpec& spec) override;
  absl::StatusOr<InstanceInfo> ScaleInstance(const std::string& location,
                                             const std::string& instance_id,
                                             const Capacity& capacity) override;
  absl::StatusOr<InstanceInfo> SetWriteRouting(const std::string& location,
                                               const std::string& instance_id,
                                               const WriteRouting& routing) override;
  absl::StatusOr<InstanceInfo> SetReadOnly(const std::string& location,
                                           const std::string& instance_id, bool read_only) override;
  absl::StatusOr<InstanceInfo> GrantWrites(const std::string& location,
                                           const std::string& instance_id,
                                           const WriteGrant& grant) override;
  absl::StatusOr<InstanceInfo> DeactivateInstance(const std::string& location,
                                                  const std::string& instance_id,
                                                  bool delete_data) override;
  absl::StatusOr<InstanceInfo> DescribeInstance(const std::string& location,
                                                const std::string& instance_id) override;
  absl::StatusOr<std::vector<InstanceInfo>> ListInstances(const std::string& location) override;
  absl::StatusOr<InstanceDisruptions> Disruptions(const std::string& location,
                                                  const std::string& instance_id,
                                                  absl::Time since) override;

 private:
  struct Agent {
    std::string endpoint;
    std::unique_ptr<shadowplane::agent::v1::AgentService::Stub> stub;
    bool greeted = false;
  };
  // The agent of `location`, greeted (protocol checked) once.
  absl::StatusOr<Agent*> AgentFor(const std::string& location);
  // Calls `rpc(stub, context)` with deadline, protocol metadata and retries.
  template <typename Rpc>
  absl::Status Call(const std::string& location, const char* what, Rpc rpc);
  template <typename Rpc>
  absl::Status CallWithRetries(const std::string& location, const char* what, Rpc rpc);

  const ComputeProviderContext context_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Agent>> agents_ ABSL_GUARDED_BY(mu_);  // by endpoint
  prometheus::Family<prometheus::Histogram>* call_seconds_ = nullptr;
  prometheus::Family<prometheus::Counter>* errors_ = nullptr;
};

// Registers "local" in `registry`.
absl::Status RegisterLocalComputeProvider(ComputeProviderRegistry& registry);

}  // namespace shadowplane::providers

#endif  // SHADOWPLANE_PROVIDERS_COMPUTE_LOCAL_LOCAL_COMPUTE_PROVIDER_H_
