#include "forecast/pooled_profile.h"

#include <numeric>

#include "absl/strings/str_cat.h"
#include "forecast/best_location_chain.h"
#include "forecast/forecast_model.h"

namespace shadowplane::forecast {

absl::StatusOr<std::vector<double>> PooledProfileForecast(absl::Span<const double> own,
                                                          absl::Span<const double> others,
                                                          absl::Time first_hour, int horizon) {
  if (absl::Status s = CheckFinite(own); !s.ok()) return s;
  if (absl::Status s = CheckFinite(others); !s.ok()) return s;
  constexpr int kWeek = 168;
  const double total = std::accumulate(others.begin(), others.end(), 0.0);
  if (static_cast<int>(others.size()) < kWeek || !(total > 0)) {
    return absl::FailedPreconditionError(
        absl::StrCat("other resources' demand from the same regions covers ", others.size(),
                     " hours with ", total, " requests: at least a week with requests is needed"));
  }
  // Hour-of-week means of the others, normalised to mean 1.
  std::vector<double> sum(kWeek, 0.0);
  std::vector<int> count(kWeek, 0);
  const absl::Time others_start = first_hour - absl::Hours(others.size());
  const int first_week_hour = HourOfWeek(others_start);
  for (size_t t = 0; t < others.size(); ++t) {
    sum[(first_week_hour + t) % kWeek] += others[t];
    ++count[(first_week_hour + t) % kWeek];
  }
  std::vector<double> shape(kWeek);
  for (int w = 0; w < kWeek; ++w) shape[w] = sum[w] / count[w];
  const double mean = std::accumulate(shape.begin(), shape.end(), 0.0) / kWeek;
  for (double& v : shape) v /= mean;
  // This resource's level: its requests over the profile at the same hours.
  const int own_first_week_hour = HourOfWeek(first_hour - absl::Hours(own.size()));
  double own_sum = 0, shape_sum = 0;
  for (size_t t = 0; t < own.size(); ++t) {
    own_sum += own[t];
    shape_sum += shape[(own_first_week_hour + t) % kWeek];
  }
  const double level = shape_sum > 0 ? own_sum / shape_sum : 0;
  std::vector<double> out(horizon);
  const int next = HourOfWeek(first_hour);
  for (int h = 0; h < horizon; ++h) out[h] = level * shape[(next + h) % kWeek];
  return out;
}

}  // namespace shadowplane::forecast
