#include "api/event_service.h"

#include "common/grpc_unary.h"

namespace shadowplane::api {

namespace pb = shadowplane::v1;

grpc::ServerUnaryReactor* EventService::RegisterEvent(grpc::CallbackServerContext* context,
                                                      const pb::RegisterEventRequest* request,
                                                      pb::RegisterEventResponse* response) {
  return FinishOnPool(context, workers_, [this, request, response]() {
    return registry_->Register(*request, response);
  });
}

grpc::ServerUnaryReactor* EventService::GetEvent(grpc::CallbackServerContext* context,
                                                 const pb::GetEventRequest* request,
                                                 pb::Event* response) {
  return FinishOnPool(context, workers_,
                      [this, request, response]() { return registry_->Get(*request, response); });
}

grpc::ServerUnaryReactor* EventService::ListEvents(grpc::CallbackServerContext* context,
                                                   const pb::ListEventsRequest* request,
                                                   pb::ListEventsResponse* response) {
  return FinishOnPool(context, workers_,
                      [this, request, response]() { return registry_->List(*request, response); });
}

grpc::ServerUnaryReactor* EventService::DeleteEvent(grpc::CallbackServerContext* context,
                                                    const pb::DeleteEventRequest* request,
                                                    pb::DeleteEventResponse*) {
  return FinishOnPool(context, workers_, [this, request]() { return registry_->Delete(*request); });
}

}  // namespace shadowplane::api
