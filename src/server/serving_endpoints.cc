#include "server/serving_endpoints.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "api/access/access_interceptor.h"
#include "api/grpc_metrics.h"
#include "common/listen_address.h"

namespace shadowplane::server {
namespace {

// Removes the server reflection plugin from a builder's plugins.
class WithoutReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [](const std::unique_ptr<grpc::ServerBuilderPlugin>& p) {
                                    return absl::StrContains(p->name(), "reflection");
                                  }),
                   plugins->end());
  }
};

}  // namespace

void StopGrpcServer(std::unique_ptr<grpc::Server>& server, WorkerPool* workers,
                    absl::Duration grace) {
  if (server != nullptr) {
    server->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server->Wait();
    server.reset();
  }
  if (workers != nullptr) workers->Shutdown();
}

std::string HostOf(const std::string& host_port) {
  return host_port.substr(0, host_port.rfind(':'));
}

absl::StatusOr<std::unique_ptr<prometheus::Exposer>> StartMetricsEndpoint(
    const std::string& listen, const std::string& flag,
    const std::shared_ptr<prometheus::Registry>& registry, int* port) {
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(listen);
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(absl::StrCat("cannot serve metrics on --", flag, "=",
                                                      listen, ": ", DiagnoseBindFailure(listen)));
  }
  exposer->RegisterCollectable(registry);
  const std::vector<int> ports = exposer->GetListeningPorts();
  *port = ports.empty() ? 0 : ports.front();
  return exposer;
}

absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(const GrpcServerSpec& spec,
                                                              int* port) {
  const std::string& listen = spec.listen;
  // Registered for every builder of the process (the library also registers it as it loads);
  // a server without reflection drops it from its own builder.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, which lets a second server silently share the port.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  if (!spec.reflection) builder.SetOption(std::make_unique<WithoutReflection>());
  const GrpcLimits& limits = spec.limits;
  builder.SetMaxReceiveMessageSize(limits.max_receive_message_bytes);
  builder.SetMaxSendMessageSize(limits.max_send_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, limits.max_concurrent_streams);
  grpc::ResourceQuota quota(absl::StrCat("grpc-", spec.flag));
  quota.SetMaxThreads(limits.max_sync_threads);
  quota.Resize(static_cast<size_t>(limits.memory_quota_bytes));
  builder.SetResourceQuota(quota);
  builder.AddListeningPort(
      listen, spec.credentials != nullptr ? spec.credentials : grpc::InsecureServerCredentials(),
      port);
  for (grpc::Service* service : spec.services) builder.RegisterService(service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(api::MakeGrpcMetricsInterceptor(spec.registry));
  if (spec.access != nullptr) {
    interceptors.push_back(api::access::MakeAccessInterceptor(spec.access));
  }
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || *port == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot listen for gRPC on --", spec.flag, "=", listen, ": ", DiagnoseBindFailure(listen)));
  }
  return server;
}

}  // namespace shadowplane::server
