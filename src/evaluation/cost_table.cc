#include "evaluation/cost_table.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

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

absl::StatusOr<CostTable> CostTable::Build(const World& world, const DemandTrace& trace) {
  RETURN_IF_ERROR(trace.Validate());
  if (world.locations.empty()) return absl::InvalidArgumentError("the world has no location");
  CostTable t;
  for (const auto& [name, facts] : world.locations) t.locations_.push_back(name);
  const size_t n = t.locations_.size();
  t.serve_.assign(static_cast<size_t>(trace.hours()), std::vector<CostParts>(n));
  t.move_.assign(static_cast<size_t>(trace.hours()), std::vector<double>(n));
  t.rtt_ms_.assign(static_cast<size_t>(trace.hours()), std::vector<double>(n));
  for (int h = 0; h < trace.hours(); ++h) {
    // The planner's objective over one hour of realised demand (no paths: the point is the fact).
    planner::DemandOutlook hour;
    hour.regions = trace.regions;
    hour.expected_requests = trace.requests[static_cast<size_t>(h)];
    hour.bytes_per_request = trace.bytes_per_request;
    hour.requests_per_hour_at_move = trace.Total(h);
    t.requests_.push_back(hour.requests_per_hour_at_move);
    for (size_t l = 0; l < n; ++l) {
      const planner::LocationFacts& facts = world.locations.at(t.locations_[l]);
      ASSIGN_OR_RETURN(const planner::LocationTerms terms,
                       planner::EvaluateLocation(facts, world.capacity, absl::Hours(1), hour,
                                                 world.regions, world.rtt, world.prices));
      CostParts& c = t.serve_[static_cast<size_t>(h)][l];
      c.compute = terms.compute + terms.spot_risk;
      c.electricity = terms.electricity;
      c.latency = terms.latency;
      c.egress = terms.egress;
      t.rtt_ms_[static_cast<size_t>(h)][l] = terms.latency_ms;
      t.move_[static_cast<size_t>(h)][l] = planner::MoveCost(facts, world.move, hour, world.prices);
    }
  }
  return t;
}

int CostTable::IndexOf(const std::string& name) const {
  for (size_t i = 0; i < locations_.size(); ++i) {
    if (locations_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

absl::StatusOr<ScheduleReport> Charge(const CostTable& table, const World& world,
                                      const std::vector<int>& schedule, int start, int from_hour) {
  const int n = static_cast<int>(table.locations().size());
  if (static_cast<int>(schedule.size()) != table.hours()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the schedule has ", schedule.size(), " hours, the trace ", table.hours()));
  }
  if (start < 0 || start >= n) return absl::InvalidArgumentError("start is not a location");
  if (from_hour < 0 || from_hour >= table.hours()) {
    return absl::InvalidArgumentError("from_hour is outside the trace");
  }
  for (int h = 0; h < table.hours(); ++h) {
    const int l = schedule[static_cast<size_t>(h)];
    if (l < 0 || l >= n) {
      return absl::InvalidArgumentError(absl::StrCat("hour ", h, ": location ", l, " is not one"));
    }
  }
  ScheduleReport out;
  double requests = 0, rtt_weighted = 0, best_served = 0;
  int at = from_hour == 0 ? start : schedule[static_cast<size_t>(from_hour - 1)];
  for (int h = from_hour; h < table.hours(); ++h) {
    const int l = schedule[static_cast<size_t>(h)];
    double hour_cost = table.Serve(h, l).total();
    if (l != at) {
      hour_cost += table.Move(h, at);
      out.cost.moves += table.Move(h, at);
      ++out.migrations;
      out.freeze_seconds += world.move.expected_freeze_seconds;
      at = l;
    }
    out.hourly_cost.push_back(hour_cost);
    const CostParts& c = table.Serve(h, l);
    out.cost.compute += c.compute;
    out.cost.electricity += c.electricity;
    out.cost.latency += c.latency;
    out.cost.egress += c.egress;
    const double q = table.Requests(h);
    requests += q;
    rtt_weighted += q * table.RttMs(h, l);
    int best = 0;
    for (int k = 1; k < n; ++k) {
      if (table.Serve(h, k).total() < table.Serve(h, best).total()) best = k;
    }
    if (table.Serve(h, l).total() <= table.Serve(h, best).total()) best_served += q;
  }
  if (requests > 0) {
    out.mean_rtt_ms = rtt_weighted / requests;
    out.best_location_share = best_served / requests;
  }
  return out;
}

}  // namespace shadowplane::evaluation
