// The cost side of the trace-driven evaluation (bench/run_evaluation.sh): what serving each hour
// of a demand trace from each candidate location costs, and what moving out of a location at each
// hour costs, both from the planner's own objective (planner/plan_objective.h) evaluated on the
// trace's realised demand, one hour at a time. Every policy (static, reactive, predictive, the
// oracle) is charged from the same table, so their totals compare.
//
// A schedule names the location serving each hour; a change between two hours is a move, made at
// the start of the later hour and charged the move cost at that hour's demand. Pure: no clock, no
// database.
#ifndef SHADOWPLANE_EVALUATION_COST_TABLE_H_
#define SHADOWPLANE_EVALUATION_COST_TABLE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/capacity.h"
#include "geo/distance.h"
#include "planner/placement.h"
#include "planner/plan_objective.h"

namespace shadowplane::evaluation {

// Requests per origin region and hour for one resource.
struct DemandTrace {
  absl::Time start;                           // the first hour
  std::vector<std::string> regions;           // the columns
  std::vector<std::vector<double>> requests;  // [hour][region]
  std::vector<double> bytes_per_request;      // per region; empty: 0

  int hours() const { return static_cast<int>(requests.size()); }
  double Total(int hour) const;
  // INVALID_ARGUMENT naming what is wrong: no region or hour, a row of the wrong width, a
  // negative or non-finite value, bytes_per_request of the wrong width.
  absl::Status Validate() const;
};

// The world a trace is served in: candidate locations with their prices, the origins' places,
// the latency model and prices, and the resource (its capacity, data size, write freeze).
struct World {
  std::map<std::string, planner::LocationFacts> locations;
  std::map<std::string, planner::RegionFacts> regions;
  geo::RttModel rtt;
  planner::PlanPrices prices;
  Capacity capacity{1000, 1024, CapacityType::kOnDemand};
  planner::MoveFacts move;
};

struct CostParts {
  double compute = 0;
  double electricity = 0;
  double latency = 0;
  double egress = 0;
  double moves = 0;
  double total() const { return compute + electricity + latency + egress + moves; }
};

class CostTable {
 public:
  // FAILED_PRECONDITION naming a location without prices, NOT_FOUND for an origin the world does
  // not place, INVALID_ARGUMENT for a bad trace or no location.
  static absl::StatusOr<CostTable> Build(const World& world, const DemandTrace& trace);

  int hours() const { return static_cast<int>(serve_.size()); }
  const std::vector<std::string>& locations() const { return locations_; }
  // -1 when `name` is not a candidate.
  int IndexOf(const std::string& name) const;
  // Serving hour `h` from location `l` (indices), all parts but moves.
  const CostParts& Serve(int h, int l) const { return serve_[h][l]; }
  // Moving out of location `from` at the start of hour `h`.
  double Move(int h, int from) const { return move_[h][from]; }
  // The demand-weighted mean RTT of hour `h` from `l` (0 without demand).
  double RttMs(int h, int l) const { return rtt_ms_[h][l]; }
  double Requests(int h) const { return requests_[h]; }

 private:
  std::vector<std::string> locations_;
  std::vector<std::vector<CostParts>> serve_;
  std::vector<std::vector<double>> move_;
  std::vector<std::vector<double>> rtt_ms_;
  std::vector<double> requests_;
};

// What a schedule costs and did.
struct ScheduleReport {
  CostParts cost;
  int migrations = 0;
  double freeze_seconds = 0;  // the move's write freeze, per migration
  double mean_rtt_ms = 0;     // demand-weighted
  // The share of requests served from the location that was cheapest to serve that hour from.
  double best_location_share = 0;
  // Each charged hour's cost, a move into it included (for cumulative plots).
  std::vector<double> hourly_cost;
};

// `schedule[h]` is the index of the location serving hour h, `start` where the resource was before
// hour 0 (a different location at hour 0 is a move). Only hours from `from_hour` on are charged
// (the held-out part of a trace), a move into `from_hour` included. INVALID_ARGUMENT for a
// schedule of the wrong length, an index out of range or `from_hour` outside the trace.
absl::StatusOr<ScheduleReport> Charge(const CostTable& table, const World& world,
                                      const std::vector<int>& schedule, int start,
                                      int from_hour = 0);

}  // namespace shadowplane::evaluation

#endif  // SHADOWPLANE_EVALUATION_COST_TABLE_H_
