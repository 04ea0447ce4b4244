// What known events (campaigns, news) do to a resource's hourly demand, and how much they did.
//
// The models forecast time of day, day of week and season; an event covers the rest: inside its
// window, the demand it affects is its uplift times what the models forecast (2.0: twice as many
// requests). An hour partly inside the window gets that share of the uplift. Events compose by
// multiplication.
//
// An event affects either all of a resource's demand or only the demand from some origin regions.
// A computation's series are its regions and their "total" (fitted separately, so the regions
// need not add up to it exactly); the total moves by what the resource-wide events do to all of it
// and what the regional ones add to their regions:
//   region'  = all * regional_r * region
//   total'   = all * (total + sum_r (regional_r - 1) * region_r)
// RemoveEventEffects inverts that, so that the models are fitted to history without the bumps
// past events left in it (a seasonal naive 168 would otherwise repeat last week's campaign).
#ifndef SHADOWPLANE_FORECAST_EVENT_EFFECTS_H_
#define SHADOWPLANE_FORECAST_EVENT_EFFECTS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace shadowplane::forecast {

// An event as the forecast applies it.
struct DemandEvent {
  absl::Time start, end;
  // Origin regions whose demand it affects; empty: all of the resource's demand.
  std::vector<std::string> regions;
  double uplift = 1;  // demand multiplier inside the window
};

// The share of the hour starting at `hour` that lies inside [start, end), 0..1.
double WindowShare(absl::Time hour, absl::Time start, absl::Time end);

// A computation's series at the same hours: names[i] is a region or "total" (at most one total),
// values[i] its values, the first at `first_hour`. Series may be empty (none at those hours).
struct SeriesSet {
  std::vector<std::string> names;
  std::vector<std::vector<double>> values;
  absl::Time first_hour;
};

// Whether any event overlaps the hours of `series` and affects one of them.
bool AnyEffect(const std::vector<DemandEvent>& events, const SeriesSet& series);

// The series with the events applied (same shape).
std::vector<std::vector<double>> ApplyEventEffects(const std::vector<DemandEvent>& events,
                                                   const SeriesSet& series);

// The series with the events' effects taken out (the inverse of ApplyEventEffects; an uplift of 0
// leaves its hours as they are, there being nothing to divide by).
std::vector<std::vector<double>> RemoveEventEffects(const std::vector<DemandEvent>& events,
                                                    const SeriesSet& series);

// Scales quantile values of one series by what the events did to its point forecast: each value
// times adjusted / baseline at its hour, or shifted by adjusted - baseline where the baseline is
// zero.
void ScaleLikePoint(const std::vector<double>& baseline, const std::vector<double>& adjusted,
                    std::vector<double>& quantile);

// How one past event turned out for one resource: the requests in its window (whole hours inside
// it, or every hour it touches when none is whole) against the forecast made without it.
struct EventOutcome {
  int hours = 0;
  double actual = 0;
  double baseline = 0;
  // actual / baseline; 0 when the baseline is 0.
  double ratio() const { return baseline > 0 ? actual / baseline : 0; }
};

// `actual` and `baseline` hold the hours from `first_hour` on (the baseline forecast made at
// `first_hour` from the history before it). Hours past either's end are not counted.
EventOutcome MeasureOutcome(absl::Time start, absl::Time end, absl::Time first_hour,
                            const std::vector<double>& actual, const std::vector<double>& baseline);

// The uplift learned from past outcomes of events of one kind: the median ratio of those with a
// baseline (robust to the odd event that flopped or went viral). 1 when there are none.
double LearnedUplift(const std::vector<EventOutcome>& outcomes);

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_EVENT_EFFECTS_H_
