// shadowplane.v1.EventService messages <-> forecast::EventRegistry's structs. Checks what only the
// wire can get wrong (a timestamp out of range); the registry checks the rest.
#ifndef SHADOWPLANE_API_EVENT_MAPPING_H_
#define SHADOWPLANE_API_EVENT_MAPPING_H_

#include "absl/status/statusor.h"
#include "forecast/event_registry.h"
#include "shadowplane/v1/events.pb.h"

namespace shadowplane::api {

// INVALID_ARGUMENT naming start_time or end_time when one is not a valid timestamp.
absl::StatusOr<forecast::EventRegistration> FromProto(
    const shadowplane::v1::RegisterEventRequest& request);
// INVALID_ARGUMENT naming ending_after when it is not a valid timestamp.
absl::StatusOr<forecast::EventQuery> FromProto(const shadowplane::v1::ListEventsRequest& request);

void ToProto(const store::EventRecord& event, shadowplane::v1::Event* out);
void ToProto(const forecast::EventWithOutcomes& event, shadowplane::v1::Event* out);

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_EVENT_MAPPING_H_
