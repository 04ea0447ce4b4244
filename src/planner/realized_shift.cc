#include "planner/realized_shift.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "planner/realized_saving.h"

namespace shadowplane::planner {
namespace {

absl::Time HourStart(absl::Time t) {
  return absl::UnixEpoch() + absl::Floor(t - absl::UnixEpoch(), absl::Hours(1));
}

}  // namespace

absl::StatusOr<RealizedShift> RealizedShiftOf(const ShiftQuestion& q,
                                              const std::map<std::string, LocationFacts>& locations,
                                              const std::map<std::string, RegionFacts>& regions,
                                              const geo::RttModel& rtt, const PlanPrices& prices) {
  const absl::Time first = HourStart(q.from);
  if (q.until <= first) return absl::InvalidArgumentError("the window observed is empty");
  if (q.until - first > absl::Hours(kMaxShiftHours)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the window observed is over ", kMaxShiftHours, " hours"));
  }
  for (const std::string* name : {&q.old_location, &q.new_location}) {
    if (locations.count(*name) == 0) {
      return absl::NotFoundError(absl::StrCat("location ", *name, " is not in the catalog"));
    }
  }
  // Whole hours, the last one possibly cut short by `until`.
  const int hours =
      static_cast<int>(absl::ToInt64Hours(absl::Ceil(q.until - first, absl::Hours(1))));
  struct Hour {
    std::map<std::string, double> requests, bytes_out;
  };
  std::vector<Hour> by_hour(hours);
  for (const HourlyRegionDemand& d : q.demand) {
    if (d.hour < first || d.hour >= q.until) continue;
    Hour& slot = by_hour[static_cast<int>(absl::ToInt64Hours(d.hour - first))];
    slot.requests[d.region] += d.requests;
    slot.bytes_out[d.region] += d.bytes_out;
  }

  RealizedShift out;
  out.started_at = q.started_at;
  out.cheapest.resize(hours);
  for (int h = 0; h < hours; ++h) {
    std::map<std::string, double> bytes_per_request;
    for (const auto& [region, n] : by_hour[h].requests) {
      if (n > 0) bytes_per_request[region] = by_hour[h].bytes_out[region] / n;
    }
    const DemandOutlook demand = RealizedOutlook(by_hour[h].requests, bytes_per_request, regions);
    double best = std::numeric_limits<double>::infinity();
    for (const auto& [name, facts] : locations) {
      const bool old = name == q.old_location;
      absl::StatusOr<LocationTerms> terms =
          EvaluateLocation(facts, old ? q.old_capacity : q.new_capacity, absl::Hours(1), demand,
                           regions, rtt, prices);
      if (!terms.ok()) {
        if (old || name == q.new_location) return terms.status();
        continue;  // a location without prices is no candidate
      }
      if (terms->expected_total() < best) {
        best = terms->expected_total();
        out.cheapest[h] = name;
      }
    }
  }

  const int start = static_cast<int>(
      std::clamp<int64_t>(absl::ToInt64Hours(HourStart(q.started_at) - first), 0, hours - 1));
  int shift = -1;
  if (out.cheapest[start] == q.new_location) {
    shift = start;
    while (shift > 0 && out.cheapest[shift - 1] == q.new_location) --shift;
    out.at_or_before = shift == 0;
  } else {
    for (int h = start + 1; h < hours && shift < 0; ++h) {
      if (out.cheapest[h] == q.new_location) shift = h;
    }
  }
  if (shift >= 0) out.shift_at = first + absl::Hours(shift);
  return out;
}

}  // namespace shadowplane::planner
