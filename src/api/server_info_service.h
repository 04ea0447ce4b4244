// shadowplane.v1.ServerService: what this process is and what time it thinks it is.
// A thin handler: the facts come from a callback supplied by the server wiring. Thread-safe if
// the callback is.
#ifndef SHADOWPLANE_API_SERVER_INFO_SERVICE_H_
#define SHADOWPLANE_API_SERVER_INFO_SERVICE_H_

#include <functional>

#include "shadowplane/v1/server.grpc.pb.h"

namespace shadowplane::api {

class ServerInfoService final : public shadowplane::v1::ServerService::CallbackService {
 public:
  using FactsFn = std::function<shadowplane::v1::GetServerInfoResponse()>;
  explicit ServerInfoService(FactsFn facts) : facts_(std::move(facts)) {}

  grpc::ServerUnaryReactor* GetServerInfo(
      grpc::CallbackServerContext* context, const shadowplane::v1::GetServerInfoRequest* request,
      shadowplane::v1::GetServerInfoResponse* response) override;

 private:
  FactsFn facts_;
};

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_SERVER_INFO_SERVICE_H_
