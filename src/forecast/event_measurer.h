// Measures what ended events did: for each affected resource, its requests in the event's window
// (the affected regions', or all of them) against the forecast made from the history before the
// window (with earlier events' effects taken out, forecast/known_events.h), stored as the event's
// outcomes (`demand_event_outcomes`). Those outcomes are what uplifts are learned from.
//
// An event is measured once `settle` has passed after the hour its window ends in (late telemetry
// arrives first). An event naming regions only is measured for the resources with requests from
// them in its window, busiest first, at most `max_resources_per_event`. A resource with no
// requests before the window has no baseline and no outcome. Windows longer than the forecaster's
// stored horizon are measured over that many hours.
//
// Metrics: shadowplane_events_measured_total, shadowplane_event_outcomes_total,
// shadowplane_event_uplift (the measured actual/baseline ratios). Thread-safe; the forecast
// refresher runs it under its lease.
#ifndef SHADOWPLANE_FORECAST_EVENT_MEASURER_H_
#define SHADOWPLANE_FORECAST_EVENT_MEASURER_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "forecast/event_effects.h"
#include "forecast/forecaster.h"
#include "forecast/known_events.h"
#include "store/event_repository.h"
#include "store/telemetry_repository.h"

namespace prometheus {
class Registry;
class Counter;
class Histogram;
}  // namespace prometheus

namespace shadowplane::forecast {

struct MeasurerOptions {
  absl::Duration settle = absl::Hours(1);
  int max_events_per_pass = 100;
  int max_resources_per_event = 200;
};

class EventMeasurer {
 public:
  EventMeasurer(Forecaster* forecaster, store::EventRepository* events,
                store::TelemetryRepository* telemetry, KnownEvents* known, const Clock* clock,
                MeasurerOptions options, prometheus::Registry* registry);

  // Measures the events due (at most max_events_per_pass); returns how many.
  absl::StatusOr<int> RunOnce();

  // One resource's outcome of one event; absent when there is nothing to measure (no requests
  // before the window, or none of the affected regions in its demand).
  absl::StatusOr<std::optional<EventOutcome>> Measure(const store::EventRecord& event,
                                                      const std::string& resource_id);

 private:
  Forecaster* const forecaster_;
  store::EventRepository* const events_;
  store::TelemetryRepository* const telemetry_;
  KnownEvents* const known_;
  const Clock* const clock_;
  const MeasurerOptions options_;
  prometheus::Counter* measured_ = nullptr;
  prometheus::Counter* outcomes_ = nullptr;
  prometheus::Histogram* uplift_ = nullptr;
};

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_EVENT_MEASURER_H_
