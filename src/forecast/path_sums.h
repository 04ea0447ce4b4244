// Each joint sample path's demand summed over a fixed window, per origin region: what a reader
// that costs demand linearly (the planner's latency and egress terms) needs of the paths, at about
// a fiftieth of their size.
//
// A computation's paths start at its first hour; a reader asks at the hour it is in, so the sums
// are made for windows starting at the first hour and each of the next `starts - 1` hours. The
// point forecast's sums over the same windows, its requests in each window's first hour, and the
// bytes served per request before the computation (the planner's egress term) go with them. Known
// events are not applied: a reader whose window an event may touch reads the paths themselves
// (forecast::Predictor applies events hour by hour).
#ifndef SHADOWPLANE_FORECAST_PATH_SUMS_H_
#define SHADOWPLANE_FORECAST_PATH_SUMS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "store/forecast_repository.h"

namespace shadowplane::forecast {

struct PathSumsOptions {
  // The window's length in hours; 0: no sums.
  int window_hours = 0;
  // Windows starting at the first hour and each of the next starts - 1 hours.
  int starts = 0;
  // The past over which the bytes served per request, stored with the sums, are averaged.
  absl::Duration egress_history = absl::Hours(24 * 7);
};

// The window sums of `paths` and of the point forecasts in `records` (the computation's records;
// "total" is left out), each with the region's `bytes_per_request` (0 when missing). Only windows
// that both the paths and every region's point forecast cover; none when a region has no paths.
// Negative or non-finite values count as 0 requests.
std::vector<store::PathSumsRecord> PathSumsOf(
    const std::vector<store::ForecastRecord>& records, const store::ForecastPathsRecord& paths,
    const PathSumsOptions& options, const std::map<std::string, double>& bytes_per_request = {});

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_PATH_SUMS_H_
