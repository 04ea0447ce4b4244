#include "forecast/demand_history.h"

namespace shadowplane::forecast {

HourlyHistory BuildHourlyHistory(const std::vector<store::DemandRow>& rows, absl::Time from,
                                 absl::Time to) {
  HourlyHistory history;
  history.first_hour = FloorHour(from);
  // Hours that start before `to`.
  const int64_t hours =
      to > history.first_hour
          ? (to - history.first_hour + absl::Hours(1) - absl::Nanoseconds(1)) / absl::Hours(1)
          : 0;
  history.total.assign(hours, 0.0);
  for (const store::DemandRow& row : rows) {
    if (row.hour < history.first_hour) continue;
    const int64_t i = (row.hour - history.first_hour) / absl::Hours(1);
    if (i >= hours) continue;
    std::vector<double>& series = history.regions[row.origin_region];
    if (series.empty()) series.assign(hours, 0.0);
    series[i] += static_cast<double>(row.sums.requests);
    history.total[i] += static_cast<double>(row.sums.requests);
  }
  return history;
}

}  // namespace shadowplane::forecast
