// EventService's logic: validates registrations (every bad field named), stores events and answers
// questions about them; the gRPC handlers (api/event_service.h) are thin wrappers. Thread-safe.
//
// Metrics: shadowplane_events_registered_total{uplift="given"|"learned"}.
#ifndef SHADOWPLANE_FORECAST_EVENT_REGISTRY_H_
#define SHADOWPLANE_FORECAST_EVENT_REGISTRY_H_

#include "absl/status/status.h"
#include "common/clock.h"
#include "shadowplane/v1/events.pb.h"
#include "store/event_repository.h"

namespace prometheus {
class Registry;
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane::forecast {

inline constexpr int kMaxEventResources = 1000;
inline constexpr int kMaxEventRegions = 100;
inline constexpr absl::Duration kMaxEventWindow = absl::Hours(24 * 90);
inline constexpr double kMaxUplift = 1000;

class EventRegistry {
 public:
  EventRegistry(store::EventRepository* events, const Clock* clock, prometheus::Registry* registry);

  // Errors as documented on shadowplane.v1.EventService.
  absl::Status Register(const shadowplane::v1::RegisterEventRequest& request,
                        shadowplane::v1::RegisterEventResponse* response);
  absl::Status Get(const shadowplane::v1::GetEventRequest& request, shadowplane::v1::Event* event);
  absl::Status List(const shadowplane::v1::ListEventsRequest& request,
                    shadowplane::v1::ListEventsResponse* response);
  absl::Status Delete(const shadowplane::v1::DeleteEventRequest& request);

 private:
  store::EventRepository* const events_;
  const Clock* const clock_;
  prometheus::Family<prometheus::Counter>* registered_ = nullptr;
};

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_EVENT_REGISTRY_H_
