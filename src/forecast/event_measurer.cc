#include "forecast/event_measurer.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "forecast/demand_history.h"

namespace shadowplane::forecast {

EventMeasurer::EventMeasurer(Forecaster* forecaster, store::EventRepository* events,
                             store::TelemetryRepository* telemetry, KnownEvents* known,
                             const Clock* clock, MeasurerOptions options,
                             prometheus::Registry* registry)
    : forecaster_(forecaster),
      events_(events),
      telemetry_(telemetry),
      known_(known),
      clock_(clock),
      options_(options) {
  if (registry == nullptr) return;
  measured_ = &prometheus::BuildCounter()
                   .Name("shadowplane_events_measured_total")
                   .Help("Ended events whose outcomes were measured")
                   .Register(*registry)
                   .Add({});
  outcomes_ = &prometheus::BuildCounter()
                   .Name("shadowplane_event_outcomes_total")
                   .Help("Outcomes measured (one per event and affected resource)")
                   .Register(*registry)
                   .Add({});
  uplift_ =
      &prometheus::BuildHistogram()
           .Name("shadowplane_event_uplift")
           .Help("Measured outcomes: requests in an event's window over the forecast without it")
           .Register(*registry)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.25, 0.5, 0.8, 0.95, 1.05, 1.25, 1.5,
                                                            2, 3, 5, 10});
}

absl::StatusOr<std::optional<EventOutcome>> EventMeasurer::Measure(const store::EventRecord& event,
                                                                   const std::string& resource_id) {
  const absl::Time first = FloorHour(event.starts_at);
  const int64_t window_hours =
      (FloorHour(event.ends_at + absl::Hours(1) - absl::Nanoseconds(1)) - first) / absl::Hours(1);
  const int hours = static_cast<int>(
      std::min<int64_t>(window_hours, forecaster_->options().stored_horizon_hours));
  const absl::Time to = first + absl::Hours(hours);
  const absl::Time from = first - forecaster_->options().history;
  ASSIGN_OR_RETURN(const std::vector<store::DemandRow> rows,
                   telemetry_->Requests(resource_id, from, to));
  absl::Time first_seen = absl::InfiniteFuture();
  for (const store::DemandRow& row : rows) {
    if (row.sums.requests > 0) first_seen = std::min(first_seen, row.hour);
  }
  if (first_seen >= first) return std::nullopt;  // nothing before the window to forecast from
  HourlyHistory history = BuildHourlyHistory(rows, first_seen, to);
  // Earlier events out of the history, so that the baseline is what the models would say.
  ASSIGN_OR_RETURN(std::vector<DemandEvent> earlier,
                   known_->InHistory(resource_id, first_seen, first));
  RemoveFromHistory(earlier, history);

  // The affected demand: the event's regions together, or all of it.
  std::vector<double> affected;
  if (event.regions.empty()) {
    affected = history.total;
  } else {
    for (const std::string& region : event.regions) {
      auto it = history.regions.find(region);
      if (it == history.regions.end()) continue;
      affected.resize(it->second.size(), 0.0);
      for (size_t h = 0; h < it->second.size(); ++h) affected[h] += it->second[h];
    }
    if (affected.empty()) return std::nullopt;
  }
  const size_t before = static_cast<size_t>((first - history.first_hour) / absl::Hours(1));
  const std::vector<double> past(affected.begin(), affected.begin() + before);
  const std::vector<double> actual(affected.begin() + before, affected.end());
  const store::ForecastRecord baseline =
      forecaster_->ForecastSeries(absl::StrCat("event:", event.kind), past, first, nullptr);
  const EventOutcome outcome =
      MeasureOutcome(event.starts_at, event.ends_at, first, actual, baseline.values);
  if (outcome.hours == 0) return std::nullopt;
  return outcome;
}

absl::StatusOr<int> EventMeasurer::RunOnce() {
  const absl::Time now = clock_->Now();
  ASSIGN_OR_RETURN(
      const std::vector<store::EventRecord> due,
      events_->Unmeasured(FloorHour(now) - options_.settle, options_.max_events_per_pass));
  int measured = 0;
  for (const store::EventRecord& event : due) {
    std::vector<std::string> resources = event.resource_ids;
    if (resources.empty()) {
      ASSIGN_OR_RETURN(resources, telemetry_->ResourcesWithRequests(
                                      event.regions, FloorHour(event.starts_at), event.ends_at,
                                      options_.max_resources_per_event));
    }
    std::vector<store::EventOutcomeRecord> outcomes;
    std::vector<EventOutcome> measured_outcomes;
    for (const std::string& resource : resources) {
      ASSIGN_OR_RETURN(const std::optional<EventOutcome> o, Measure(event, resource));
      if (!o.has_value()) continue;
      outcomes.push_back({event.id, resource, o->hours, o->actual, o->baseline});
      measured_outcomes.push_back(*o);
      if (uplift_ != nullptr && o->baseline > 0) uplift_->Observe(o->ratio());
    }
    const absl::Status stored = events_->RecordOutcomes(event.id, outcomes, now);
    if (absl::IsNotFound(stored)) continue;  // deleted meanwhile
    RETURN_IF_ERROR(stored);
    ++measured;
    if (measured_ != nullptr) {
      measured_->Increment();
      outcomes_->Increment(static_cast<double>(outcomes.size()));
    }
    LOG_EVENT(kInfo, "event measured")
        .Field("event_id", event.id)
        .Field("kind", event.kind)
        .Field("resources", static_cast<int64_t>(outcomes.size()))
        .Field("median_uplift", LearnedUplift(measured_outcomes));
  }
  return measured;
}

}  // namespace shadowplane::forecast
