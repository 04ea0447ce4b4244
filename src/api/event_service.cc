#include "api/event_service.h"

#include "api/event_mapping.h"
#include "common/grpc_unary.h"
#include "common/status_macros.h"

namespace shadowplane::api {

namespace pb = shadowplane::v1;

grpc::ServerUnaryReactor* EventService::RegisterEvent(grpc::CallbackServerContext* context,
                                                      const pb::RegisterEventRequest* request,
                                                      pb::RegisterEventResponse* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    ASSIGN_OR_RETURN(const forecast::EventRegistration registration, FromProto(*request));
    ASSIGN_OR_RETURN(const forecast::RegisteredEvent registered, registry_->Register(registration));
    ToProto(registered.event, response->mutable_event());
    response->set_created(registered.created);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* EventService::GetEvent(grpc::CallbackServerContext* context,
                                                 const pb::GetEventRequest* request,
                                                 pb::Event* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    ASSIGN_OR_RETURN(const forecast::EventWithOutcomes event, registry_->Get(request->event_id()));
    ToProto(event, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* EventService::ListEvents(grpc::CallbackServerContext* context,
                                                   const pb::ListEventsRequest* request,
                                                   pb::ListEventsResponse* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    ASSIGN_OR_RETURN(const forecast::EventQuery query, FromProto(*request));
    ASSIGN_OR_RETURN(const store::EventPage page, registry_->List(query));
    for (const store::EventRecord& e : page.events) ToProto(e, response->add_events());
    response->set_next_page_token(page.next);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* EventService::DeleteEvent(grpc::CallbackServerContext* context,
                                                    const pb::DeleteEventRequest* request,
                                                    pb::DeleteEventResponse*) {
  return FinishOnPool(context, request, workers_,
                      [this, request]() { return registry_->Delete(request->event_id()); });
}

}  // namespace shadowplane::api
