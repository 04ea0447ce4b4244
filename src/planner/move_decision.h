// The planner's decision for one resource: stay, or move to the candidate with the largest
// expected saving among those the forecast makes sure enough of. A pure function of its inputs
// (the demand outlook, the catalog's facts and prices, the reservation's settings and history,
// the fleet's state and the clock): no database, no network, so that the loop, the dry run and
// the trace-driven evaluation run the same code.
//
// Confidence is the share of the forecast's joint sample paths in which the candidate's cost over
// the horizon plus the move's cost is below the current location's by at least the hysteresis
// margin, max(relative × the current cost on that path, absolute). Without sample paths (a young
// resource on a cold-start forecast) the best-location chain stands in, and only when the
// candidate's other costs (compute, electricity, egress) equal the current location's within the
// margin: its share of hours in which the candidate is the lowest-latency location.
//
// Every gate is evaluated and reported, passed or blocking, so that the explanation shows all
// that stood in the way, not only the first.
#ifndef SHADOWPLANE_PLANNER_MOVE_DECISION_H_
#define SHADOWPLANE_PLANNER_MOVE_DECISION_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/capacity.h"
#include "geo/distance.h"
#include "planner/cutover_timing.h"
#include "planner/demand_outlook.h"
#include "planner/placement.h"
#include "planner/plan_objective.h"
#include "planner/planner_settings.h"

namespace shadowplane::planner {

enum class PlanGate {
  kMode,                 // off: not planned; recommend: decided, never acted on
  kPinned,               // the reservation is pinned to its location
  kNoForecast,           // no stored forecast, or one without demand
  kStaleForecast,        // the forecast is older than the allowed age
  kMigrationInProgress,  // a migration of this resource is running
  kPaused,               // automatic moves are paused fleet-wide
  kFleetBudget,          // the fleet's planned moves this hour reached the budget
  kDwell,                // too soon after the last migration
  kDailyCap,             // too many migrations in the last 24 hours
  kBlackout,             // a cutover would fall inside a blackout window
  kThreshold,            // confidence below the migration threshold
  kSaving,               // the expected saving does not repay the move
  kCooldown,             // a return to the location just left, too soon
  kCapacity,             // no room at the candidate
  kSpot,                 // spot not cheaper enough after its risk, or not back long enough
};

// "mode", "pinned", "no_forecast", ...: the label of the decision metric and the stored name.
const char* PlanGateName(PlanGate gate);

struct GateCheck {
  PlanGate gate;
  bool passed = true;
  std::string detail;
};

enum class PlanOutcome {
  kStay,       // no candidate is sure enough to pay
  kMove,       // auto mode: start a planned migration
  kRecommend,  // recommend mode: a move would be made
  kBlocked,    // a candidate qualifies, but a gate of the resource or the fleet stands in the way
  kScheduled,  // auto mode: a move, best started later than the next tick ("move at T")
};

const char* PlanOutcomeName(PlanOutcome outcome);

// What the reservation's past says about moving it again.
struct MoveHistory {
  bool migration_in_progress = false;
  std::optional<absl::Time> last_migration_finished;
  // The location the last migration left, and when.
  std::string last_left_location;
  CapacityType last_left_capacity_type = CapacityType::kOnDemand;
  std::optional<absl::Time> left_at;
  // Start times of this resource's migrations (only the last 24 hours matter).
  std::vector<absl::Time> migration_starts;
};

struct PlanSubject {
  std::string resource_id;
  std::string current_location;
  // The primary's, with the capacity type it runs on now.
  Capacity capacity;
  // The reservation asks for spot: spot candidates are weighed beside on-demand ones.
  bool wants_spot = false;
  // The placement set, resolved to location names.
  std::vector<std::string> allowed_locations;
  PlannerSettings settings;
  MoveHistory history;
  // move.affine_sessions starts as these: the clients seen within the session window now.
  int64_t affine_clients = 0;
  MoveFacts move;
};

struct FleetState {
  bool paused = false;
  int planned_moves_last_hour = 0;
  int max_planned_moves_per_hour = 20;
};

// What every decision of one tick shares.
struct PlanContext {
  const std::map<std::string, LocationFacts>* locations = nullptr;
  const std::map<std::string, RegionFacts>* regions = nullptr;
  const geo::RttModel* rtt = nullptr;
  PlanPrices prices;
  // A forecast older than this is stale (the loop never refits inline).
  absl::Duration max_forecast_age = absl::Hours(2);
  // How long a cutover may take to come after the decision (the blackout check's window).
  absl::Duration decision_to_cutover = absl::Minutes(30);
  FleetState fleet;
  // A spot candidate must be this much cheaper than on-demand at its location, its risk counted
  // (planner/spot_prices.h) ...
  double spot_min_discount = 0.3;
  // ... and its spot capacity available again for this long after it was last gone.
  absl::Duration spot_return_after = absl::Hours(1);
};

struct Spread {
  double p10 = 0;
  double p50 = 0;
  double p90 = 0;
};

struct CandidateExplanation {
  std::string location;
  CapacityType capacity_type = CapacityType::kOnDemand;
  bool current = false;
  // The location's prices: "catalog", "latest" or "trailing_mean_of_N" (planner/spot_prices.h).
  std::string price_basis;
  // Empty when the location was costed; otherwise why not (missing prices, cordoned, unknown).
  std::string skipped;
  LocationTerms terms;
  Spread path_cost;  // dollars over the horizon across sample paths
  // For candidates other than the current location:
  double move_cost = 0;
  double affinity_cost = 0;    // the affine sessions' part of move_cost
  double expected_saving = 0;  // current − candidate − move, mean over paths (or point forecast)
  Spread saving;               // across sample paths, after the move's cost
  double margin = 0;           // the hysteresis margin at the expected current cost
  double confidence = 0;
  std::string confidence_source;  // "sample_paths", "best_location_chain" or "none"
  std::vector<GateCheck> gates;   // capacity, spot, saving, threshold, cooldown
  bool qualifies() const;
};

// The clients affine to the resource and what a cutover's disruption of their sessions costs.
struct AffinityExplanation {
  int64_t clients = 0;  // seen within the session window, now
  absl::Duration session;
  double price_per_session = 0;
  double expected_sessions = 0;  // at the cutover (the move's cost counts these)
  double cost = 0;
};

// When a move would run (planner/cutover_timing.h), with the pre-copy estimate behind it.
struct TimingExplanation {
  CutoverTiming cutover;
  PrecopyEstimate precopy;
  double dirty_bytes_per_second = 0;
};

struct PlanDecision {
  std::string resource_id;
  absl::Time decided_at;
  PlanOutcome outcome = PlanOutcome::kStay;
  std::string from_location;
  std::string to_location;  // set when a candidate qualifies
  CapacityType from_capacity_type = CapacityType::kOnDemand;
  CapacityType to_capacity_type = CapacityType::kOnDemand;
  double confidence = 0;
  double expected_saving = 0;
  PlannerMode mode = PlannerMode::kRecommend;
  double threshold = 0;
  absl::Duration horizon;
  std::vector<GateCheck> gates;  // of the resource and the fleet
  std::vector<CandidateExplanation> candidates;
  std::optional<PlanGate> blocking;  // the first gate that blocks the outcome
  std::string reason;                // one line for logs and tables
  AffinityExplanation affinity;
  // Set with to_location when the hourly forecast could be read.
  std::optional<TimingExplanation> timing;
  // What the demand was read from: "window_sums" (the paths' sums stored with the forecast),
  // "sample_paths" (the paths, or the point forecast and best-location chain without them), or
  // empty (no forecast could be read).
  std::string demand_read;
};

PlanDecision Decide(const PlanSubject& subject, const DemandOutlook* demand,
                    const PlanContext& context, absl::Time now);

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_PLANNER_MOVE_DECISION_H_
