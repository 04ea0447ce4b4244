#include "evaluation/cost_table.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "planner/cutover_timing.h"

namespace shadowplane::evaluation {

double DemandTrace::Total(int hour) const {
  double sum = 0;
  for (double q : requests[static_cast<size_t>(hour)]) sum += q;
  return sum;
}

absl::Status DemandTrace::Validate() const {
  if (regions.empty()) return absl::InvalidArgumentError("the trace has no origin region");
  if (requests.empty()) return absl::InvalidArgumentError("the trace has no hour");
  for (size_t h = 0; h < requests.size(); ++h) {
    if (requests[h].size() != regions.size()) {
      return absl::InvalidArgumentError(absl::StrCat("hour ", h, " has ", requests[h].size(),
                                                     " values for ", regions.size(), " regions"));
    }
    for (size_t r = 0; r < regions.size(); ++r) {
      if (!std::isfinite(requests[h][r]) || requests[h][r] < 0) {
        return absl::InvalidArgumentError(absl::StrCat("hour ", h, ", region ", regions[r],
                                                       ": requests must be finite and >= 0"));
      }
    }
  }
  if (!bytes_per_request.empty() && bytes_per_request.size() != regions.size()) {
    return absl::InvalidArgumentError("bytes_per_request needs one value per region");
  }
  for (double b : bytes_per_request) {
    if (!std::isfinite(b) || b < 0) {
      return absl::InvalidArgumentError("bytes_per_request must be finite and >= 0");
    }
  }
  return absl::OkStatus();
}

MoveTimes TimesOf(const MoveModel& model, int64_t data_bytes) {
  planner::PrecopyInputs in;
  in.data_bytes = data_bytes;
  in.dirty_bytes_per_second = model.dirty_bytes_per_second;
  in.measured_bandwidth = model.bandwidth_bytes_per_second;
  in.safety = 1;
  MoveTimes out;
  out.precopy_seconds = absl::ToDoubleSeconds(planner::EstimatePrecopy(in).real);
  // The final round carries what changed during the last pre-copy round: the rounds shrink by
  // dirty rate / bandwidth each, as the estimate's do, down to the round cap or a millisecond.
  const double bandwidth = model.bandwidth_bytes_per_second;
  if (bandwidth > 0 && data_bytes > 0) {
    const double ratio = std::min(1.0, std::max(0.0, model.dirty_bytes_per_second / bandwidth));
    double round = static_cast<double>(data_bytes) / bandwidth;
    for (int r = 1; r < in.max_rounds && round * ratio >= 1e-3; ++r) round *= ratio;
    out.final_round_bytes = static_cast<int64_t>(
        std::min(static_cast<double>(data_bytes), model.dirty_bytes_per_second * round));
  }
  out.freeze_seconds = model.freeze.Expected(out.final_round_bytes, model.dirty_files);
  return out;
}

absl::StatusOr<CostTable> CostTable::Build(const World& world, const DemandTrace& trace) {
  RETURN_IF_ERROR(trace.Validate());
  if (world.locations.empty()) return absl::InvalidArgumentError("the world has no location");
  for (const auto& [name, market] : world.spot) {
    if (world.locations.count(name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("a spot market for unknown location ", name));
    }
    if (static_cast<int>(market.price_share.size()) < trace.hours() ||
        static_cast<int>(market.interrupted.size()) < trace.hours()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the spot market of ", name, " is shorter than the trace"));
    }
  }
  CostTable t;
  const MoveTimes times = TimesOf(world.migration, world.move.data_bytes);
  if (!(times.precopy_seconds < 3600)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a move's pre-copy takes ", times.precopy_seconds,
        " s at this bandwidth and dirty rate; the evaluation's hourly steps need under an hour"));
  }
  t.precopy_share_ = times.precopy_seconds / 3600;
  for (const auto& [name, facts] : world.locations) {
    t.placements_.push_back({name, CapacityType::kOnDemand, name});
  }
  for (const auto& [name, market] : world.spot) {
    t.placements_.push_back({name, CapacityType::kSpot, absl::StrCat(name, ":spot")});
  }
  const size_t n = t.placements_.size();
  const size_t hours = static_cast<size_t>(trace.hours());
  t.serve_.assign(hours, std::vector<CostParts>(n));
  t.move_.assign(hours, std::vector<double>(n));
  t.interrupted_.assign(hours, std::vector<bool>(n, false));
  t.rtt_ms_.assign(hours, std::vector<double>(n));
  for (size_t h = 0; h < hours; ++h) {
    // The planner's objective over one hour of realised demand (no paths: the point is the fact).
    planner::DemandOutlook hour;
    hour.regions = trace.regions;
    hour.expected_requests = trace.requests[h];
    hour.bytes_per_request = trace.bytes_per_request;
    hour.requests_per_hour_at_move = trace.Total(static_cast<int>(h));
    t.requests_.push_back(hour.requests_per_hour_at_move);
    for (size_t p = 0; p < n; ++p) {
      const Placement& placement = t.placements_[p];
      planner::LocationFacts facts = world.locations.at(placement.location);
      Capacity capacity = world.capacity;
      capacity.type = placement.type;
      if (placement.type == CapacityType::kSpot) {
        // The hour's price as it was; the risk is not priced here, it happens (interruptions).
        const SpotSeries& market = world.spot.at(placement.location);
        const double share = market.price_share[h];
        facts.spot_price_per_vcpu_hour = share * facts.on_demand_price_per_vcpu_hour;
        facts.spot_price_per_gib_hour = share * facts.on_demand_price_per_gib_hour;
        facts.spot_availability = 1;
        t.interrupted_[h][p] = market.interrupted[h];
      }
      ASSIGN_OR_RETURN(const planner::LocationTerms terms,
                       planner::EvaluateLocation(facts, capacity, absl::Hours(1), hour,
                                                 world.regions, world.rtt, world.prices));
      CostParts& c = t.serve_[h][p];
      c.compute = terms.compute + terms.spot_risk;
      c.electricity = terms.electricity;
      c.latency = terms.latency;
      c.egress = terms.egress;
      t.rtt_ms_[h][p] = terms.latency_ms;
      t.move_[h][p] = planner::MoveCost(facts, world.move, hour, world.prices);
    }
  }
  return t;
}

CostParts CostTable::MoveHour(int h, int from, int to) const {
  const CostParts& old_hour = Serve(h, from);
  const CostParts& new_hour = Serve(h, to);
  const double f = precopy_share_;
  CostParts c;
  c.compute = f * old_hour.compute + new_hour.compute;  // the target runs the whole hour
  c.electricity = f * old_hour.electricity + new_hour.electricity;
  c.latency = f * old_hour.latency + (1 - f) * new_hour.latency;
  c.egress = f * old_hour.egress + (1 - f) * new_hour.egress;
  c.moves = Move(h, from);
  return c;
}

int CostTable::IndexOf(const std::string& location, CapacityType type) const {
  for (size_t i = 0; i < placements_.size(); ++i) {
    if (placements_[i].location == location && placements_[i].type == type) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

absl::StatusOr<ScheduleReport> Charge(const CostTable& table, const World& world,
                                      const std::vector<int>& schedule, int start, int from_hour) {
  const int n = table.size();
  if (static_cast<int>(schedule.size()) != table.hours()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the schedule has ", schedule.size(), " hours, the trace ", table.hours()));
  }
  if (start < 0 || start >= n) return absl::InvalidArgumentError("start is not a placement");
  if (from_hour < 0 || from_hour >= table.hours()) {
    return absl::InvalidArgumentError("from_hour is outside the trace");
  }
  for (int h = 0; h < table.hours(); ++h) {
    const int p = schedule[static_cast<size_t>(h)];
    if (p < 0 || p >= n) {
      return absl::InvalidArgumentError(absl::StrCat("hour ", h, ": placement ", p, " is not one"));
    }
    if (table.Interrupted(h, p)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "hour ", h, ": ", table.placements()[static_cast<size_t>(p)].name, " was reclaimed"));
    }
  }
  ScheduleReport out;
  double requests = 0, rtt_weighted = 0, best_served = 0;
  int spot_hours = 0;
  int at = from_hour == 0 ? start : schedule[static_cast<size_t>(from_hour - 1)];
  for (int h = from_hour; h < table.hours(); ++h) {
    const int p = schedule[static_cast<size_t>(h)];
    CostParts c = table.Serve(h, p);
    if (p != at) {
      c = table.MoveHour(h, at, p);
      ++out.migrations;
      if (table.Interrupted(h, at)) ++out.urgent_moves;
      out.freeze_seconds += world.move.expected_freeze_seconds;
      at = p;
    }
    out.hourly_cost.push_back(c.total());
    out.cost.compute += c.compute;
    out.cost.electricity += c.electricity;
    out.cost.latency += c.latency;
    out.cost.egress += c.egress;
    out.cost.moves += c.moves;
    if (table.placements()[static_cast<size_t>(p)].type == CapacityType::kSpot) ++spot_hours;
    const double q = table.Requests(h);
    requests += q;
    rtt_weighted += q * table.RttMs(h, p);
    // The cheapest placement that could serve the hour.
    int best = -1;
    for (int k = 0; k < n; ++k) {
      if (table.Interrupted(h, k)) continue;
      if (best < 0 || table.Serve(h, k).total() < table.Serve(h, best).total()) best = k;
    }
    if (table.Serve(h, p).total() <= table.Serve(h, best).total()) best_served += q;
  }
  const int charged = table.hours() - from_hour;
  out.spot_share = static_cast<double>(spot_hours) / charged;
  if (requests > 0) {
    out.mean_rtt_ms = rtt_weighted / requests;
    out.best_location_share = best_served / requests;
  }
  return out;
}

}  // namespace shadowplane::evaluation
