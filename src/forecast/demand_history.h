// The history a forecast is fitted to: requests per hour per origin region, and in total, over
// [from, to) from demand_hourly rows. Every hour of the range is present: an hour without events is
// a zero, not a gap, so that seasons line up.
#ifndef SHADOWPLANE_FORECAST_DEMAND_HISTORY_H_
#define SHADOWPLANE_FORECAST_DEMAND_HISTORY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "store/telemetry_repository.h"

namespace shadowplane::forecast {

struct HourlyHistory {
  absl::Time first_hour;                               // `from`, rounded down to the hour
  std::map<std::string, std::vector<double>> regions;  // by origin region
  std::vector<double> total;
};

// The start of the hour `t` falls in (UTC).
inline absl::Time FloorHour(absl::Time t) {
  return absl::UnixEpoch() + absl::Floor(t - absl::UnixEpoch(), absl::Hours(1));
}

// Rows outside the range are ignored.
HourlyHistory BuildHourlyHistory(const std::vector<store::DemandRow>& rows, absl::Time from,
                                 absl::Time to);

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_DEMAND_HISTORY_H_
