// What Predictor answers, as plain structs: the questions (PredictQuery, BacktestQuery) and the
// answers (Prediction, BacktestReport). The API layer maps them to and from
// shadowplane.v1.ForecastService's messages (api/forecast_mapping.h); the planner reads them
// directly.
#ifndef SHADOWPLANE_FORECAST_PREDICTION_H_
#define SHADOWPLANE_FORECAST_PREDICTION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "forecast/known_events.h"
#include "store/forecast_repository.h"

namespace shadowplane::forecast {

inline constexpr int kDefaultHorizonHours = 48;
inline constexpr int kDefaultRealizedDays = 7;

// The most quantile levels one Predict may ask for: each costs series x hours values in the answer.
inline constexpr size_t kMaxQuantiles = 32;

struct PredictQuery {
  std::string resource_id;
  // Hours from the current hour on; unset: kDefaultHorizonHours.
  std::optional<int> horizon_hours;
  // Compute (and store) a forecast now instead of serving the stored one.
  bool refresh = false;
  // Never compute: serve the stored forecast, NOT_FOUND when there is none and
  // FAILED_PRECONDITION when it does not cover the horizon (the planner reads only stored ones).
  bool stored_only = false;
  // Levels in (0, 1), at most kMaxQuantiles; empty: 0.025, 0.1, 0.5, 0.9, 0.975.
  std::vector<double> quantiles;
  // Joint sample paths per series, 0 to the forecaster's sample_paths.
  int sample_paths = 0;
  // Also answer the probability that each candidate location is the best in each hour.
  bool best_location = false;
};

struct QuantileValues {
  double level = 0;
  std::vector<double> values;  // one per hour, like SeriesPrediction::values
};

// Backtest accuracy of one model, or of the forecast itself, over the same rolling origins.
struct ModelAccuracy {
  std::string model;
  double smape = 0;  // percent, M4's definition
  double mase = 0;   // scaled by the in-sample seasonal naive (24) error
};

// One series' forecast over the served hours.
struct SeriesPrediction {
  std::string origin_region;  // or "total"
  std::string model;
  std::vector<double> parameters;
  // One value per hour from Prediction::first_hour, with known events applied.
  std::vector<double> values;
  // The models' own values when a known event changes this series; empty otherwise.
  std::vector<double> baseline_values;
  int history_hours = 0;
  std::string fallback_reason;
  int64_t forecast_id = 0;
  std::string method;  // "selected", "combined" or "fallback"
  std::vector<std::string> models;
  std::vector<double> weights;
  std::string selection_note;
  std::vector<QuantileValues> quantiles;
  // The forecast's own backtest accuracy; absent for a fallback.
  std::optional<ModelAccuracy> backtest;
  int backtest_origins = 0;
  // Prediction::sample_paths paths of Prediction::paths_hours values each, path after path; path p
  // of every series comes from the same draw.
  std::vector<float> sample_paths;
  // Past forecasts of this series, scored.
  std::optional<store::RealizedAccuracy> realized;
};

struct LocationProbability {
  std::string location;
  // probability[k - 1]: best k hours after the last full hour.
  std::vector<double> probability;
};

struct Prediction {
  std::string resource_id;
  absl::Time first_hour;  // the current hour: what values[0] forecasts
  int horizon_hours = 0;
  absl::Time computed_at;
  bool computed_now = false;  // computed for this query
  std::vector<SeriesPrediction> regions;
  SeriesPrediction total;
  int sample_paths = 0;
  int paths_hours = 0;
  std::string best_location_now;
  std::vector<LocationProbability> best_location;
  // Known events that change at least one served series, by start.
  std::vector<ResolvedEvent> events;
};

struct BacktestQuery {
  std::string resource_id;
  // How far back realized accuracy looks; unset: kDefaultRealizedDays.
  std::optional<int> realized_days;
};

struct SeriesBacktest {
  std::string origin_region;  // or "total"
  std::string method;
  std::vector<std::string> models;
  std::vector<double> weights;
  std::string selection_note;
  int origins = 0;  // rolling origins, one hour apart
  std::optional<ModelAccuracy> forecast;
  std::vector<ModelAccuracy> candidates;
  std::optional<store::RealizedAccuracy> realized;
};

struct BacktestReport {
  std::string resource_id;
  absl::Time computed_at;
  std::vector<SeriesBacktest> series;  // regions by name, then "total"
};

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_PREDICTION_H_
