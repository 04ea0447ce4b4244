// Summarises a stored forecast (forecast::Prediction) into the planner's DemandOutlook: per joint
// sample path and region, the requests over the first `horizon_hours`; the point forecast's sums;
// the best-location chain's probabilities averaged over the horizon (the cold-start stand-in).
#ifndef SHADOWPLANE_PLANNER_OUTLOOK_BUILDER_H_
#define SHADOWPLANE_PLANNER_OUTLOOK_BUILDER_H_

#include <map>
#include <string>

#include "forecast/prediction.h"
#include "planner/demand_outlook.h"
#include "store/forecast_repository.h"

namespace shadowplane::planner {

// `bytes_per_request` by origin region (telemetry; a region missing: 0). Negative or non-finite
// forecast values count as 0 requests.
DemandOutlook OutlookOf(const forecast::Prediction& prediction, int horizon_hours,
                        const std::map<std::string, double>& bytes_per_request);

// The same from the paths' window sums stored with the forecast (forecast/path_sums.h), with the
// bytes per request stored with them; no best-location chain (sums exist only where paths do).
DemandOutlook OutlookOfSums(const store::PathSumsRecord& sums);

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_PLANNER_OUTLOOK_BUILDER_H_
