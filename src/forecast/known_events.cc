#include "forecast/known_events.h"

#include <map>

#include "common/status_macros.h"

namespace shadowplane::forecast {

namespace {

std::vector<EventOutcome> ToOutcomes(const std::vector<store::EventOutcomeRecord>& records) {
  std::vector<EventOutcome> out;
  for (const store::EventOutcomeRecord& r : records) {
    out.push_back(EventOutcome{r.hours, r.actual, r.baseline});
  }
  return out;
}

}  // namespace

DemandEvent EffectOf(const store::EventRecord& event, double uplift) {
  DemandEvent e;
  e.start = event.starts_at;
  e.end = event.ends_at;
  e.regions = event.regions;
  e.uplift = uplift;
  return e;
}

absl::StatusOr<Learned> KnownEvents::LearnedFor(const std::string& kind,
                                                const std::string& resource_id, absl::Time as_of) {
  ASSIGN_OR_RETURN(const std::vector<store::EventOutcomeRecord> own,
                   events_->Outcomes(kind, resource_id, kLearnFrom, as_of));
  Learned learned;
  if (static_cast<int>(own.size()) >= kOwnOutcomesNeeded) {
    learned.uplift = LearnedUplift(ToOutcomes(own));
    learned.source = "learned_resource";
    learned.outcomes = static_cast<int>(own.size());
    return learned;
  }
  ASSIGN_OR_RETURN(const std::vector<store::EventOutcomeRecord> fleet,
                   events_->Outcomes(kind, "", kLearnFrom, as_of));
  if (!fleet.empty()) {
    learned.uplift = LearnedUplift(ToOutcomes(fleet));
    learned.source = "learned_fleet";
    learned.outcomes = static_cast<int>(fleet.size());
  }
  return learned;
}

absl::StatusOr<Learned> KnownEvents::Cached(const std::string& kind, const std::string& resource_id,
                                            absl::Time as_of,
                                            std::map<std::string, Learned>& by_kind) {
  if (auto it = by_kind.find(kind); it != by_kind.end()) return it->second;
  ASSIGN_OR_RETURN(Learned learned, LearnedFor(kind, resource_id, as_of));
  by_kind.emplace(kind, learned);
  return learned;
}

absl::StatusOr<std::vector<ResolvedEvent>> KnownEvents::ForForecast(const std::string& resource_id,
                                                                    absl::Time from, absl::Time to,
                                                                    absl::Time as_of) {
  ASSIGN_OR_RETURN(const std::vector<store::ResourceEvent> events,
                   events_->ForResource(resource_id, from, to));
  std::map<std::string, Learned> by_kind;
  std::vector<ResolvedEvent> out;
  for (const store::ResourceEvent& e : events) {
    ResolvedEvent r;
    r.record = e.event;
    if (e.event.expected_uplift.has_value()) {
      r.effect = EffectOf(e.event, *e.event.expected_uplift);
      r.uplift_source = "given";
    } else {
      ASSIGN_OR_RETURN(const Learned learned, Cached(e.event.kind, resource_id, as_of, by_kind));
      r.effect = EffectOf(e.event, learned.uplift);
      r.uplift_source = learned.source;
      r.outcomes = learned.outcomes;
    }
    out.push_back(std::move(r));
  }
  return out;
}

absl::StatusOr<std::vector<DemandEvent>> KnownEvents::InHistory(const std::string& resource_id,
                                                                absl::Time from, absl::Time to) {
  ASSIGN_OR_RETURN(const std::vector<store::ResourceEvent> events,
                   events_->ForResource(resource_id, from, to));
  std::map<std::string, Learned> by_kind;
  std::vector<DemandEvent> out;
  for (const store::ResourceEvent& e : events) {
    if (e.outcome.has_value() && e.outcome->baseline > 0) {
      out.push_back(EffectOf(e.event, e.outcome->actual / e.outcome->baseline));
    } else if (e.event.expected_uplift.has_value()) {
      out.push_back(EffectOf(e.event, *e.event.expected_uplift));
    } else {
      // Not measured yet (still running, or just ended): what its kind usually does.
      ASSIGN_OR_RETURN(const Learned learned,
                       Cached(e.event.kind, resource_id, absl::InfiniteFuture(), by_kind));
      if (learned.outcomes > 0) out.push_back(EffectOf(e.event, learned.uplift));
    }
  }
  return out;
}

void RemoveFromHistory(const std::vector<DemandEvent>& events, HourlyHistory& history) {
  if (events.empty()) return;
  SeriesSet set;
  set.first_hour = history.first_hour;
  for (const auto& [region, values] : history.regions) {
    set.names.push_back(region);
    set.values.push_back(values);
  }
  set.names.push_back("total");
  set.values.push_back(history.total);
  std::vector<std::vector<double>> clean = RemoveEventEffects(events, set);
  size_t i = 0;
  for (auto& [region, values] : history.regions) values = std::move(clean[i++]);
  history.total = std::move(clean[i]);
}

}  // namespace shadowplane::forecast
