#include "planner/outlook_builder.h"

#include <algorithm>
#include <cmath>

namespace shadowplane::planner {
namespace {

double Requests(double v) { return std::isfinite(v) && v > 0 ? v : 0; }

}  // namespace

DemandOutlook OutlookOf(const forecast::Prediction& prediction, int horizon_hours,
                        const std::map<std::string, double>& bytes_per_request) {
  DemandOutlook o;
  o.computed_at = prediction.computed_at;
  const size_t n = prediction.regions.size();
  for (const forecast::SeriesPrediction& s : prediction.regions) {
    o.regions.push_back(s.origin_region);
    double sum = 0;
    const size_t hours = std::min(s.values.size(), static_cast<size_t>(std::max(0, horizon_hours)));
    for (size_t h = 0; h < hours; ++h) sum += Requests(s.values[h]);
    o.expected_requests.push_back(sum);
    const auto bytes = bytes_per_request.find(s.origin_region);
    o.bytes_per_request.push_back(bytes == bytes_per_request.end() ? 0 : bytes->second);
    if (!s.values.empty()) o.requests_per_hour_at_move += Requests(s.values[0]);
  }
  // Paths: every region must carry all of them, or the joint draw is broken and none is used.
  const int paths = prediction.sample_paths;
  const int stride = prediction.paths_hours;
  const int hours = std::min(stride, horizon_hours);
  bool complete = paths > 0 && hours > 0 && n > 0;
  for (const forecast::SeriesPrediction& s : prediction.regions) {
    complete = complete &&
               s.sample_paths.size() == static_cast<size_t>(paths) * static_cast<size_t>(stride);
  }
  if (complete) {
    o.paths = paths;
    o.path_requests.assign(static_cast<size_t>(paths) * n, 0);
    for (size_t r = 0; r < n; ++r) {
      const std::vector<float>& v = prediction.regions[r].sample_paths;
      for (int p = 0; p < paths; ++p) {
        double sum = 0;
        const size_t base = static_cast<size_t>(p) * static_cast<size_t>(stride);
        for (int h = 0; h < hours; ++h) sum += Requests(v[base + static_cast<size_t>(h)]);
        o.path_requests[static_cast<size_t>(p) * n + r] = sum;
      }
    }
  }
  for (const forecast::LocationProbability& l : prediction.best_location) {
    const size_t k =
        std::min(l.probability.size(), static_cast<size_t>(std::max(0, horizon_hours)));
    if (k == 0) continue;
    double sum = 0;
    for (size_t i = 0; i < k; ++i) sum += l.probability[i];
    o.best_location_share[l.location] = sum / static_cast<double>(k);
  }
  return o;
}

DemandOutlook OutlookOfSums(const store::PathSumsRecord& sums) {
  DemandOutlook o;
  o.computed_at = sums.computed_at;
  o.regions = sums.regions;
  o.expected_requests = sums.expected;
  o.bytes_per_request = sums.bytes_per_request;
  for (size_t r = 0; r < sums.regions.size(); ++r) {
    o.requests_per_hour_at_move += Requests(sums.first_hour_requests[r]);
  }
  if (sums.paths > 0 && !sums.regions.empty() &&
      sums.sums.size() == static_cast<size_t>(sums.paths) * sums.regions.size()) {
    o.paths = sums.paths;
    o.path_requests = sums.sums;
  }
  return o;
}

}  // namespace shadowplane::planner
