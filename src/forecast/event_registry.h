// EventService's logic: validates registrations (every bad field named), stores events and answers
// questions about them; the gRPC handlers (api/event_service.h) map messages to the structs here
// and back. Thread-safe.
//
// Metrics: shadowplane_events_registered_total{uplift="given"|"learned"}.
#ifndef SHADOWPLANE_FORECAST_EVENT_REGISTRY_H_
#define SHADOWPLANE_FORECAST_EVENT_REGISTRY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
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

// A known event as a caller describes it; fields as on shadowplane.v1.RegisterEventRequest.
struct EventRegistration {
  std::string request_id;  // idempotency key, optional
  std::string kind;
  std::string name;
  std::vector<std::string> resource_ids;
  std::vector<std::string> regions;
  std::optional<absl::Time> starts_at;
  std::optional<absl::Time> ends_at;  // exclusive
  std::optional<double> expected_uplift;
};

struct RegisteredEvent {
  store::EventRecord event;
  bool created = false;  // false: the request_id was seen before and this is that event
};

struct EventWithOutcomes {
  store::EventRecord event;
  std::vector<store::EventOutcomeRecord> outcomes;
};

struct EventQuery {
  std::string resource_id;  // empty: any
  std::string region;       // empty: any
  std::string kind;         // empty: any
  std::optional<absl::Time> ending_after;
  int page_size = 0;  // 1..1000; 0: 100
  std::string page_token;
};

class EventRegistry {
 public:
  EventRegistry(store::EventRepository* events, const Clock* clock, prometheus::Registry* registry);

  // Errors as documented on shadowplane.v1.EventService: INVALID_ARGUMENT naming the first bad
  // field, NOT_FOUND for an unknown resource or region; nothing is stored on error.
  absl::StatusOr<RegisteredEvent> Register(const EventRegistration& registration);
  absl::StatusOr<EventWithOutcomes> Get(const std::string& event_id);
  // Events by start time, a page at a time.
  absl::StatusOr<store::EventPage> List(const EventQuery& query);
  absl::Status Delete(const std::string& event_id);

 private:
  store::EventRepository* const events_;
  const Clock* const clock_;
  prometheus::Family<prometheus::Counter>* registered_ = nullptr;
};

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_EVENT_REGISTRY_H_
