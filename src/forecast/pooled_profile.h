// Cold start: a resource with too little history of its own (under two days) borrows the shape of
// other resources' demand from the same origin region: the hour-of-week profile of their summed
// requests over the last weeks, normalised to mean 1, scaled to this resource's own level (its
// requests over the hours it has, against the profile over the same hours).
#ifndef SHADOWPLANE_FORECAST_POOLED_PROFILE_H_
#define SHADOWPLANE_FORECAST_POOLED_PROFILE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace shadowplane::forecast {

inline constexpr char kPooledProfileModel[] = "pooled_profile";
// Histories shorter than this borrow the pooled profile.
inline constexpr int kColdStartHours = 48;

// `own` and `others` are hourly and both end just before `first_hour`; `others` should cover at
// least a week. FAILED_PRECONDITION when `others` is shorter than a week or holds no requests,
// INVALID_ARGUMENT for values that are not finite.
absl::StatusOr<std::vector<double>> PooledProfileForecast(absl::Span<const double> own,
                                                          absl::Span<const double> others,
                                                          absl::Time first_hour, int horizon);

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_POOLED_PROFILE_H_
