#include "forecast/path_sums.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace shadowplane::forecast {
namespace {

double Requests(double v) { return std::isfinite(v) && v > 0 ? v : 0; }

}  // namespace

std::vector<store::PathSumsRecord> PathSumsOf(
    const std::vector<store::ForecastRecord>& records, const store::ForecastPathsRecord& paths,
    const PathSumsOptions& options, const std::map<std::string, double>& bytes_per_request) {
  std::vector<store::PathSumsRecord> out;
  const int window = options.window_hours;
  if (window <= 0 || options.starts <= 0 || paths.paths <= 0) return out;
  // The regions' point forecasts and the paths of each, in the records' order.
  std::vector<const store::ForecastRecord*> regions;
  std::vector<const std::vector<float>*> region_paths;
  for (const store::ForecastRecord& r : records) {
    if (r.origin_region == "total") continue;
    const auto at = std::find(paths.regions.begin(), paths.regions.end(), r.origin_region);
    if (at == paths.regions.end() || r.first_hour != paths.first_hour) return out;
    const std::vector<float>& v = paths.values[static_cast<size_t>(at - paths.regions.begin())];
    if (v.size() != static_cast<size_t>(paths.paths) * static_cast<size_t>(paths.horizon)) {
      return out;
    }
    regions.push_back(&r);
    region_paths.push_back(&v);
  }
  if (regions.empty()) return out;
  const size_t n = regions.size();
  for (int k = 0; k < options.starts; ++k) {
    if (k + window > paths.horizon) break;
    bool covered = true;
    for (const store::ForecastRecord* r : regions) {
      covered = covered && static_cast<int>(r->values.size()) >= k + window;
    }
    if (!covered) break;
    store::PathSumsRecord s;
    s.resource_id = paths.resource_id;
    s.computed_at = paths.computed_at;
    s.start_hour = paths.first_hour + absl::Hours(k);
    s.window_hours = window;
    s.paths = paths.paths;
    s.sums.assign(static_cast<size_t>(paths.paths) * n, 0);
    for (size_t r = 0; r < n; ++r) {
      s.regions.push_back(regions[r]->origin_region);
      double expected = 0;
      for (int h = k; h < k + window; ++h) expected += Requests(regions[r]->values[h]);
      s.expected.push_back(expected);
      s.first_hour_requests.push_back(Requests(regions[r]->values[k]));
      const auto bytes = bytes_per_request.find(regions[r]->origin_region);
      s.bytes_per_request.push_back(bytes == bytes_per_request.end() ? 0 : bytes->second);
      const std::vector<float>& v = *region_paths[r];
      for (int p = 0; p < paths.paths; ++p) {
        const size_t base = static_cast<size_t>(p) * static_cast<size_t>(paths.horizon);
        double sum = 0;
        for (int h = k; h < k + window; ++h) sum += Requests(v[base + static_cast<size_t>(h)]);
        s.sums[static_cast<size_t>(p) * n + r] = sum;
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace shadowplane::forecast
