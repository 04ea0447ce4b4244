// shadowplane.agent.v1.AgentService: thin handlers over agent::InstanceManager. Every call but
// Hello must carry a protocol version this agent speaks (see common/agent_protocol.h).
#ifndef SHADOWPLANE_API_AGENT_SERVICE_H_
#define SHADOWPLANE_API_AGENT_SERVICE_H_

#include "agent/instance_manager.h"
#include "shadowplane/agent/v1/agent.grpc.pb.h"

namespace shadowplane::api {

class AgentService final : public shadowplane::agent::v1::AgentService::CallbackService {
 public:
  explicit AgentService(agent::InstanceManager* manager) : manager_(manager) {}

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

 private:
  agent::InstanceManager* const manager_;
};

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_AGENT_SERVICE_H_
