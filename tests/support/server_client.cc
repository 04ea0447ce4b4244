#include "support/server_client.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "support/local_ca.h"

namespace shadowplane::testing {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

ServerClient::ServerClient(int port)
    : channel_(grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials())),
      health_(grpc::health::v1::Health::NewStub(channel_)),
      server_(shadowplane::v1::ServerService::NewStub(channel_)) {}

ServerClient::ServerClient(int port, const std::shared_ptr<const TransportSecurity>& transport)
    : channel_(
          transport->Channel(absl::StrCat("127.0.0.1:", port), std::string(kControlPlaneIdentity))),
      health_(grpc::health::v1::Health::NewStub(channel_)),
      server_(shadowplane::v1::ServerService::NewStub(channel_)) {}

absl::StatusOr<HealthCheckResponse::ServingStatus> ServerClient::Health() {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  HealthCheckRequest request;
  HealthCheckResponse response;
  grpc::Status status = health_->Check(&context, request, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  return response.status();
}

bool ServerClient::WaitForHealth(HealthCheckResponse::ServingStatus want, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    auto status = Health();
    if (status.ok() && *status == want) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

absl::StatusOr<shadowplane::v1::GetServerInfoResponse> ServerClient::Info() {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  shadowplane::v1::GetServerInfoResponse response;
  grpc::Status status = server_->GetServerInfo(&context, {}, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  return response;
}

std::unique_ptr<ChildProcess> StartServingServer(const std::vector<std::string>& argv, int port,
                                                 const std::vector<std::string>& env) {
  std::vector<std::string> args = argv;
  if (!ChoosesTransport(args)) args.push_back("--insecure");
  absl::StatusOr<std::unique_ptr<ChildProcess>> server = ChildProcess::Start(args, env);
  if (!server.ok()) {
    ADD_FAILURE() << "the server did not start: " << server.status();
    return nullptr;
  }
  if (!(*server)->WaitForOutput("shadowplane started", absl::Seconds(60))) {
    ADD_FAILURE() << "the server did not say it started:\n" << (*server)->Output();
    return nullptr;
  }
  ServerClient client(port);
  if (!client.WaitForHealth(grpc::health::v1::HealthCheckResponse::SERVING, absl::Seconds(60))) {
    ADD_FAILURE() << "the server does not serve:\n" << (*server)->Output();
    return nullptr;
  }
  return *std::move(server);
}

}  // namespace shadowplane::testing
