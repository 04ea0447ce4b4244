// shadowplane.agent.v1.AgentService: thin handlers over agent::InstanceManager. Every call but
// Hello must carry a protocol version this agent speaks (see common/agent_protocol.h).
#ifndef SHADOWPLANE_AGENT_AGENT_SERVICE_H_
#define SHADOWPLANE_AGENT_AGENT_SERVICE_H_

#include "agent/instance_manager.h"
#include "common/worker_pool.h"
#include "shadowplane/agent/v1/agent.grpc.pb.h"

namespace shadowplane::agent {

class AgentService final : public shadowplane::agent::v1::AgentService::CallbackService {
 public:
  // Handlers run on `workers` (starting an instance waits for it to listen).
  AgentService(agent::InstanceManager* manager, WorkerPool* workers)
      : manager_(manager), workers_(workers) {}

  grpc::ServerUnaryReactor* Hello(grpc::CallbackServerContext* context,
                                  const shadowplane::agent::v1::HelloRequest* request,
                                  shadowplane::agent::v1::HelloResponse* response) override;
  grpc::ServerUnaryReactor* CreateInstance(
      grpc::CallbackServerContext* context,
      const shadowplane::agent::v1::CreateInstanceRequest* request,
      shadowplane::agent::v1::Instance* response) override;
  grpc::ServerUnaryReactor* ScaleInstance(
      grpc::CallbackServerContext* context,
      const shadowplane::agent::v1::ScaleInstanceRequest* request,
      shadowplane::agent::v1::Instance* response) override;
  grpc::ServerUnaryReactor* SetWriteRouting(
      grpc::CallbackServerContext* context,
      const shadowplane::agent::v1::SetWriteRoutingRequest* request,
      shadowplane::agent::v1::Instance* response) override;
  grpc::ServerUnaryReactor* SetReadOnly(grpc::CallbackServerContext* context,
                                        const shadowplane::agent::v1::SetReadOnlyRequest* request,
                                        shadowplane::agent::v1::Instance* response) override;
  grpc::ServerUnaryReactor* DeactivateInstance(
      grpc::CallbackServerContext* context,
      const shadowplane::agent::v1::DeactivateInstanceRequest* request,
      shadowplane::agent::v1::Instance* response) override;
  grpc::ServerUnaryReactor* DescribeInstance(
      grpc::CallbackServerContext* context,
      const shadowplane::agent::v1::DescribeInstanceRequest* request,
      shadowplane::agent::v1::Instance* response) override;
  grpc::ServerUnaryReactor* ListInstances(
      grpc::CallbackServerContext* context,
      const shadowplane::agent::v1::ListInstancesRequest* request,
      shadowplane::agent::v1::ListInstancesResponse* response) override;
  grpc::ServerUnaryReactor* GetInstanceDisruptions(
      grpc::CallbackServerContext* context,
      const shadowplane::agent::v1::GetInstanceDisruptionsRequest* request,
      shadowplane::agent::v1::InstanceDisruptions* response) override;

 private:
  agent::InstanceManager* const manager_;
  WorkerPool* const workers_;
};

}  // namespace shadowplane::agent

#endif  // SHADOWPLANE_AGENT_AGENT_SERVICE_H_
