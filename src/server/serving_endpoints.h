// The two network endpoints every shadowplane process serves, built the same way everywhere:
// Prometheus /metrics, and a gRPC server with standard health, reflection and per-RPC metrics.
#ifndef SHADOWPLANE_SERVER_SERVING_ENDPOINTS_H_
#define SHADOWPLANE_SERVER_SERVING_ENDPOINTS_H_

#include <grpcpp/grpcpp.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/worker_pool.h"

namespace shadowplane::api::access {
class AccessControl;
}

namespace shadowplane::server {

// Serves `registry` on http://LISTEN/metrics. FAILED_PRECONDITION naming the flag and the reason
// when the address cannot be bound.
absl::StatusOr<std::unique_ptr<prometheus::Exposer>> StartMetricsEndpoint(
    const std::string& listen, const std::string& flag,
    const std::shared_ptr<prometheus::Registry>& registry, int* port);

// What one gRPC server lets its peers hold. Unary calls are further bounded by each handler's
// worker pool (common/worker_pool.h), which answers RESOURCE_EXHAUSTED when its queue is full.
struct GrpcLimits {
  // Largest message a peer may send (gRPC's default, stated) and the largest we send.
  int max_receive_message_bytes = 4 << 20;
  int max_send_message_bytes = 64 << 20;
  // Streams one connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS); more
  // wait in the client until one ends.
  int max_concurrent_streams = 100;
  // Threads of the synchronous handlers (the agent's sync source, reflection) in total: a call
  // past them is answered RESOURCE_EXHAUSTED instead of getting a thread of its own.
  int max_sync_threads = 128;
  // Memory the server's calls and connections may take in total (gRPC's resource quota): past
  // it, gRPC stops reading from peers and refuses new calls.
  int64_t memory_quota_bytes = int64_t{1} << 30;
};

struct GrpcServerSpec {
  std::string listen;
  std::string flag = "listen";  // named in errors
  std::vector<grpc::Service*> services;
  // TLS or plaintext (common/transport_security.h); null: plaintext.
  std::shared_ptr<grpc::ServerCredentials> credentials;
  prometheus::Registry* registry = nullptr;
  api::access::AccessControl* access = nullptr;  // may be null: no access check
  bool reflection = true;
  GrpcLimits limits;
};

// Starts a gRPC server on `spec.listen` with its services, server reflection (unless turned off)
// and the per-RPC metrics interceptor, then the access check when given
// (api/access/access_interceptor.h), within `spec.limits`. FAILED_PRECONDITION naming the flag and
// the reason when it cannot listen. `port` gets the port bound.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(const GrpcServerSpec& spec,
                                                              int* port);

// Graceful stop: refuses new calls at once, gives in-flight ones `grace`, then cancels them; then
// drains `workers` (may be null), where blocking handlers finish their calls. Null-safe, resets
// `server`.
void StopGrpcServer(std::unique_ptr<grpc::Server>& server, WorkerPool* workers,
                    absl::Duration grace);

// "host" of "host:port".
std::string HostOf(const std::string& host_port);

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_SERVING_ENDPOINTS_H_
