#include "api/server_info_service.h"

#include "common/grpc_unary.h"

namespace shadowplane::api {

grpc::ServerUnaryReactor* ServerInfoService::GetServerInfo(
    grpc::CallbackServerContext* context, const shadowplane::v1::GetServerInfoRequest* request,
    shadowplane::v1::GetServerInfoResponse* response) {
  return FinishWith(context, [this, response] {
    *response = facts_();
    return absl::OkStatus();
  });
}

}  // namespace shadowplane::api
