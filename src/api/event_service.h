// shadowplane.v1.EventService: thin handlers over forecast::EventRegistry.
#ifndef SHADOWPLANE_API_EVENT_SERVICE_H_
#define SHADOWPLANE_API_EVENT_SERVICE_H_

#include "common/worker_pool.h"
#include "forecast/event_registry.h"
#include "shadowplane/v1/events.grpc.pb.h"

namespace shadowplane::api {

class EventService final : public shadowplane::v1::EventService::CallbackService {
 public:
  // Handlers run on `workers` (they block on the database).
  EventService(forecast::EventRegistry* registry, WorkerPool* workers)
      : registry_(registry), workers_(workers) {}

  grpc::ServerUnaryReactor* RegisterEvent(
      grpc::CallbackServerContext* context, const shadowplane::v1::RegisterEventRequest* request,
      shadowplane::v1::RegisterEventResponse* response) override;
  grpc::ServerUnaryReactor* GetEvent(grpc::CallbackServerContext* context,
                                     const shadowplane::v1::GetEventRequest* request,
                                     shadowplane::v1::Event* response) override;
  grpc::ServerUnaryReactor* ListEvents(grpc::CallbackServerContext* context,
                                       const shadowplane::v1::ListEventsRequest* request,
                                       shadowplane::v1::ListEventsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteEvent(grpc::CallbackServerContext* context,
                                        const shadowplane::v1::DeleteEventRequest* request,
                                        shadowplane::v1::DeleteEventResponse* response) override;

 private:
  forecast::EventRegistry* const registry_;
  WorkerPool* const workers_;
};

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_EVENT_SERVICE_H_
