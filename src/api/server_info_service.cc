#include "api/server_info_service.h"

namespace shadowplane::api {

grpc::ServerUnaryReactor* ServerInfoService::GetServerInfo(
    grpc::CallbackServerContext* context, const shadowplane::v1::GetServerInfoRequest* request,
    shadowplane::v1::GetServerInfoResponse* response) {
  *response = facts_();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace shadowplane::api
