// A client of a shadowplane process under test: health, server info, waiting for states.
#ifndef SHADOWPLANE_TESTS_SUPPORT_SERVER_CLIENT_H_
#define SHADOWPLANE_TESTS_SUPPORT_SERVER_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/transport_security.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "shadowplane/v1/server.grpc.pb.h"
#include "support/child_process.h"

namespace shadowplane::testing {

class ServerClient {
 public:
  explicit ServerClient(int port);
  // Over TLS (or plaintext) as `transport` says, the server proving the control plane's identity.
  ServerClient(int port, const std::shared_ptr<const TransportSecurity>& transport);

  // The overall ("") health status, or the RPC's error.
  absl::StatusOr<grpc::health::v1::HealthCheckResponse::ServingStatus> Health();
  // True once Health() returns `want` within `timeout`.
  bool WaitForHealth(grpc::health::v1::HealthCheckResponse::ServingStatus want,
                     absl::Duration timeout);
  absl::StatusOr<shadowplane::v1::GetServerInfoResponse> Info();

  grpc::health::v1::Health::Stub& health() { return *health_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  std::unique_ptr<shadowplane::v1::ServerService::Stub> server_;
};

// Starts a shadowplane server (`argv`, `env` entries "NAME=value" added) and waits until it says
// it started and its health on `port` is SERVING, a minute each; nullptr after a test failure
// that shows its output otherwise.
std::unique_ptr<ChildProcess> StartServingServer(const std::vector<std::string>& argv, int port,
                                                 const std::vector<std::string>& env = {});

}  // namespace shadowplane::testing

#endif  // SHADOWPLANE_TESTS_SUPPORT_SERVER_CLIENT_H_
