// The single-model forecaster, by how much history a series has:
//   - two weeks and two days or more: the better of double seasonal Holt-Winters (level smoothing
//     at most 0.1) and seasonal naive 24 or 168 on the series' own last 24 hours (TailChoice);
//   - two days to two weeks: additive Holt-Winters with a damped trend against seasonal naive 24,
//     the same way (too little history for a weekly season);
//   - under two days: level only (simple exponential smoothing).
// The service forecasts with the ensemble (forecast/ensemble.h) instead; MakeDefaultModel is kept
// as the baseline bench/forecast_bench.cc scores the ensemble against. MakeFallbackModel is what
// the service serves when the ensemble's fit fails.
// The bound on level smoothing, the initial states and the hours held out were chosen on the
// training part of M4 Hourly only (`forecast_bench tune`); bench/README.md has the scores.
#ifndef SHADOWPLANE_FORECAST_DEFAULT_MODEL_H_
#define SHADOWPLANE_FORECAST_DEFAULT_MODEL_H_

#include <memory>

#include "forecast/forecast_model.h"

namespace shadowplane::forecast {

// The hours held out to choose between candidates (on M4 Hourly's training data 24 chose better
// than 48 to 168).
inline constexpr int kChoiceHoldoutHours = 24;
// The double seasonal model's bound on level smoothing.
inline constexpr double kDefaultMaxLevelSmoothing = 0.1;

std::unique_ptr<ForecastModel> MakeDefaultModel(int history_hours);

// Seasonal naive 24 (on M4 Hourly better than 168), or level only under a day of history: what is
// served when a fit fails.
std::unique_ptr<ForecastModel> MakeFallbackModel(int history_hours);

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_DEFAULT_MODEL_H_
