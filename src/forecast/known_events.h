// Known events (store/event_repository.h) as forecasts use them: the uplift each one applies to a
// resource's forecast (its expected uplift, else the one learned from past events of its kind),
// and what past events did to a resource's history, so that models are fitted without it.
//
// Learned uplifts: the median outcome (forecast/event_effects.h, LearnedUplift) of the newest
// kLearnFrom measured events of the kind for this resource when it has at least
// kOwnOutcomesNeeded of them, else of every resource's; none measured: uplift 1 ("unknown"). One
// event's outcome is noisy; two of the resource's own are worth more than the fleet's many.
// Thread-safe.
#ifndef SHADOWPLANE_FORECAST_KNOWN_EVENTS_H_
#define SHADOWPLANE_FORECAST_KNOWN_EVENTS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "forecast/demand_history.h"
#include "forecast/event_effects.h"
#include "store/event_repository.h"

namespace shadowplane::forecast {

inline constexpr int kLearnFrom = 20;
inline constexpr int kOwnOutcomesNeeded = 2;

// An event with the uplift a resource's forecast applies.
struct ResolvedEvent {
  store::EventRecord record;
  DemandEvent effect;
  // "given", "learned_resource", "learned_fleet" or "unknown".
  std::string uplift_source;
  int outcomes = 0;  // past outcomes a learned uplift came from
};

struct Learned {
  double uplift = 1;
  std::string source = "unknown";
  int outcomes = 0;
};

class KnownEvents {
 public:
  explicit KnownEvents(store::EventRepository* events) : events_(events) {}

  // The events that may affect `resource_id` overlapping [from, to), by start, uplifts resolved
  // from what was known at `as_of` (outcomes of events that had ended by then).
  absl::StatusOr<std::vector<ResolvedEvent>> ForForecast(const std::string& resource_id,
                                                         absl::Time from, absl::Time to,
                                                         absl::Time as_of = absl::InfiniteFuture());
  // What events overlapping [from, to) did to the resource: each one's measured outcome for it,
  // else its expected uplift, else its kind's learned one; events with none of those are left out
  // (nothing known to take out).
  absl::StatusOr<std::vector<DemandEvent>> InHistory(const std::string& resource_id,
                                                     absl::Time from, absl::Time to);
  // The uplift events of `kind` are expected to have on `resource_id`, from the outcomes of events
  // that ended by `as_of`.
  absl::StatusOr<Learned> LearnedFor(const std::string& kind, const std::string& resource_id,
                                     absl::Time as_of = absl::InfiniteFuture());

 private:
  // LearnedFor, once per kind in `by_kind`.
  absl::StatusOr<Learned> Cached(const std::string& kind, const std::string& resource_id,
                                 absl::Time as_of, std::map<std::string, Learned>& by_kind);

  store::EventRepository* const events_;
};

// DemandEvent of a stored event with the given uplift.
DemandEvent EffectOf(const store::EventRecord& event, double uplift);

// Takes the events' effects out of every series of `history` (in place).
void RemoveFromHistory(const std::vector<DemandEvent>& events, HourlyHistory& history);

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_KNOWN_EVENTS_H_
