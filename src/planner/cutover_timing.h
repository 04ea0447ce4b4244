// When a planned move should run. A move planned from a forecast should finish before the shift
// it anticipates, and its short write freeze should hit as few clients as possible:
//
//   pre-copy   data bytes / bandwidth for the first round, then rounds of what changed meanwhile
//              (each the last one's time × dirty rate / bandwidth), up to the migrator's
//              round cap; times a safety factor; from real time to domain time by the clock's
//              scale. The bandwidth between the two agents is measured from past sync rounds
//              (a documented default before any).
//   shift      the first forecast hour in which the target costs less than staying (its fixed
//              cost plus that hour's requests at its unit costs, against the current location's).
//   cutover    the forecast demand trough in [now + pre-copy, shift): the hour with the fewest
//              forecast requests (the earliest of equals); its start, or now + pre-copy when that
//              hour is the first. Times inside a blackout window are not chosen (a window's end
//              is a candidate too); when every time is, pre-copy's end stands and the planner's
//              blackout gate decides.
//   start      cutover − pre-copy. Later than the next tick: the decision is "move at T".
//   hold       only a cutover at a later hour's trough is waited for; one at pre-copy's end happens
//              when pre-copy is actually done.
//
// A shift sooner than pre-copy can end: start at once, cut over when pre-copy ends, and say by how
// much the shift is reached late. Pure: no clock, no database.
#ifndef SHADOWPLANE_PLANNER_CUTOVER_TIMING_H_
#define SHADOWPLANE_PLANNER_CUTOVER_TIMING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "planner/planner_settings.h"

namespace shadowplane::planner {

struct PrecopyInputs {
  int64_t data_bytes = 0;
  // The resource's rate of change, from its shadow's sync rounds (bytes per real second).
  double dirty_bytes_per_second = 0;
  // Measured between the two locations' agents; 0: unknown, `default_bandwidth` stands.
  double measured_bandwidth = 0;
  double default_bandwidth = 50.0 * (1 << 20);
  int max_rounds = 10;
  double safety = 2;
  // Domain seconds per real second (the scaled clock's scale; 1 on the real clock).
  double time_scale = 1;
};

struct PrecopyEstimate {
  absl::Duration real;    // with the safety factor
  absl::Duration domain;  // the same in domain time
  double bandwidth = 0;
  std::string bandwidth_source;  // "measured" or "default"
};

PrecopyEstimate EstimatePrecopy(const PrecopyInputs& in);

// The hourly view of the forecast over the horizon, from the current hour.
struct HourlyOutlook {
  absl::Time first_hour;
  // Per hour: the point forecast's requests (all regions), and what serving that hour costs at the
  // current location and at the target (dollars).
  std::vector<double> requests;
  std::vector<double> current_cost;
  std::vector<double> target_cost;
};

struct CutoverTiming {
  absl::Time start_at;
  absl::Time cutover_at;
  std::optional<absl::Time> shift_at;  // unset: the target is cheaper from the current hour on
  bool late = false;
  absl::Duration late_by;
  // The cutover waits for `cutover_at` (a trough after pre-copy's end); otherwise the move cuts
  // over as soon as pre-copy is done, whatever the estimate said.
  bool hold = false;
  double requests_at_cutover = 0;  // the cutover hour's forecast requests
  // The cutover hour's requests over the current hour's (1 when either is unknown or zero): how
  // the affine sessions at the cutover compare with those now.
  double demand_ratio_at_cutover = 1;
  std::string why;
};

// A time as the explanations write it, to the minute: "2027-01-01T16:00Z".
std::string MinuteText(absl::Time t);

CutoverTiming PlanCutover(absl::Time now, absl::Duration precopy, const HourlyOutlook& hours,
                          const std::vector<BlackoutWindow>& blackouts = {});

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_PLANNER_CUTOVER_TIMING_H_
