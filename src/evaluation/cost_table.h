// The cost side of the trace-driven evaluation (bench/run_evaluation.sh): what serving each hour
// of a demand trace from each placement costs (a candidate location on on-demand capacity, and on
// spot where the world has a spot market there), and what moving out of a placement at each hour
// costs, both from the planner's own objective (planner/plan_objective.h) evaluated on the trace's
// realised demand and the hour's spot price, one hour at a time. Every policy (static, reactive,
// predictive, the oracle) is charged from the same table, so their totals compare.
//
// A schedule names the placement serving each hour; a change between two hours is a move, made at
// the start of the later hour. A move takes time (MoveModel): during its pre-copy the old
// placement still serves and the new one already runs, so the hour of a move is charged the old
// placement's share of the hour, the new one's rest, the new one's compute during pre-copy, and
// the move cost (the data's transfer and the write freeze's delayed requests, at that hour's
// demand). Spot capacity reclaimed in an hour (SpotSeries::interrupted) serves nothing then: a
// resource on it moves at that hour's start whatever the dwell (an urgent move), and nothing moves
// onto it. Pure: no clock, no database.
#ifndef SHADOWPLANE_EVALUATION_COST_TABLE_H_
#define SHADOWPLANE_EVALUATION_COST_TABLE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/capacity.h"
#include "evaluation/spot_market.h"
#include "geo/distance.h"
#include "migration/freeze_model.h"
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

// How a move runs: pre-copy over the link (the data, then rounds of what changed meanwhile, as
// planner/cutover_timing.h estimates it, without its safety factor), then the write freeze of the
// final round from the freeze model (migration/freeze_model.h).
struct MoveModel {
  double bandwidth_bytes_per_second = 50.0 * (1 << 20);
  double dirty_bytes_per_second = 0;
  int64_t dirty_files = 1;  // files the final round carries
  migration::FreezeModel freeze = migration::DefaultFreezeModel();
};

struct MoveTimes {
  double precopy_seconds = 0;
  int64_t final_round_bytes = 0;
  double freeze_seconds = 0;
};

MoveTimes TimesOf(const MoveModel& model, int64_t data_bytes);

// The world a trace is served in: candidate locations with their prices (and spot markets), the
// origins' places, the latency model and prices, and the resource (its capacity, data size, how
// its moves run).
struct World {
  std::map<std::string, planner::LocationFacts> locations;
  // Per location with spot capacity: its market over the trace's hours.
  std::map<std::string, SpotSeries> spot;
  std::map<std::string, planner::RegionFacts> regions;
  geo::RttModel rtt;
  planner::PlanPrices prices;
  Capacity capacity{1000, 1024, CapacityType::kOnDemand};
  // data_bytes, and expected_freeze_seconds from `migration` (what the planner prices a move at).
  planner::MoveFacts move;
  MoveModel migration;
};

// A location and the capacity it runs on.
struct Placement {
  std::string location;
  CapacityType type = CapacityType::kOnDemand;
  std::string name;  // "iad", "iad:spot"
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
  // not place, INVALID_ARGUMENT for a bad trace, no location, a spot market shorter than the
  // trace or for an unknown location, or a move whose pre-copy takes an hour or more.
  static absl::StatusOr<CostTable> Build(const World& world, const DemandTrace& trace);

  int hours() const { return static_cast<int>(serve_.size()); }
  // Every location on-demand, then spot where it has a market, in the order of the world's map.
  const std::vector<Placement>& placements() const { return placements_; }
  int size() const { return static_cast<int>(placements_.size()); }
  // -1 when there is no such placement.
  int IndexOf(const std::string& location, CapacityType type = CapacityType::kOnDemand) const;
  // Serving hour `h` from placement `p` (indices), all parts but moves.
  const CostParts& Serve(int h, int p) const { return serve_[h][p]; }
  // The one-off cost of moving out of placement `from` at the start of hour `h`.
  double Move(int h, int from) const { return move_[h][from]; }
  // Hour `h` when the resource moves from `from` to `to` at its start: see the top of the file.
  CostParts MoveHour(int h, int from, int to) const;
  // Spot capacity reclaimed at `p` in hour `h` (never for on-demand).
  bool Interrupted(int h, int p) const { return interrupted_[h][p]; }
  // The demand-weighted mean RTT of hour `h` from `p` (0 without demand).
  double RttMs(int h, int p) const { return rtt_ms_[h][p]; }
  double Requests(int h) const { return requests_[h]; }
  // The share of an hour a move's pre-copy takes.
  double PrecopyShare() const { return precopy_share_; }

 private:
  std::vector<Placement> placements_;
  std::vector<std::vector<CostParts>> serve_;
  std::vector<std::vector<double>> move_;
  std::vector<std::vector<bool>> interrupted_;
  std::vector<std::vector<double>> rtt_ms_;
  std::vector<double> requests_;
  double precopy_share_ = 0;
};

// What a schedule costs and did.
struct ScheduleReport {
  CostParts cost;
  int migrations = 0;         // every move, urgent ones included
  int urgent_moves = 0;       // out of reclaimed spot capacity
  double freeze_seconds = 0;  // the moves' write freezes
  double spot_share = 0;      // the share of hours served on spot
  double mean_rtt_ms = 0;     // demand-weighted
  // The share of requests served from the location that was cheapest to serve that hour from.
  double best_location_share = 0;
  // Each charged hour's cost, a move into it included (for cumulative plots).
  std::vector<double> hourly_cost;
};

// `schedule[h]` is the index of the placement serving hour h, `start` where the resource was
// before hour 0 (a different placement at hour 0 is a move). Only hours from `from_hour` on are
// charged (the held-out part of a trace), a move into `from_hour` included. INVALID_ARGUMENT for a
// schedule of the wrong length, an index out of range, `from_hour` outside the trace, or a
// schedule that serves an hour from reclaimed spot capacity.
absl::StatusOr<ScheduleReport> Charge(const CostTable& table, const World& world,
                                      const std::vector<int>& schedule, int start,
                                      int from_hour = 0);

}  // namespace shadowplane::evaluation

#endif  // SHADOWPLANE_EVALUATION_COST_TABLE_H_
