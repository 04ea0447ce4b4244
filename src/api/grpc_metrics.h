// Per-RPC Prometheus metrics with go-grpc-prometheus's names and labels, so that existing Grafana
// panels work unchanged:
//   grpc_server_started_total{grpc_type,grpc_service,grpc_method}
//   grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}
//   grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method}  (histogram)
// Recorded by a server interceptor, so every service gets them without code of its own.
#ifndef SHADOWPLANE_API_GRPC_METRICS_H_
#define SHADOWPLANE_API_GRPC_METRICS_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>

namespace prometheus {
class Registry;
}

namespace shadowplane::api {

// The factory keeps references into `registry`, which must outlive the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeGrpcMetricsInterceptor(
    prometheus::Registry* registry);

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_GRPC_METRICS_H_
