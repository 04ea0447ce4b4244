// The `forecasts` table: every computed forecast of a resource's hourly demand per origin region,
// appended, read back newest first, pruned after the retention. Thread-safe (each call takes a
// pooled connection).
#ifndef SHADOWPLANE_STORE_FORECAST_REPOSITORY_H_
#define SHADOWPLANE_STORE_FORECAST_REPOSITORY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"

namespace shadowplane::store {

struct ForecastRecord {
  int64_t id = 0;
  std::string resource_id;
  std::string origin_region;  // "total" for all regions together
  std::string model;
  std::vector<double> parameters;
  absl::Time first_hour;
  std::vector<double> values;  // values[i] forecasts first_hour + i hours
  int history_hours = 0;
  absl::Time computed_at;
  std::string fallback_reason;  // empty unless the chosen model failed
  // How it was made: "selected" (models has one), "combined" (weights sum to 1) or "fallback".
  std::string method = "selected";
  std::vector<std::string> models;
  std::vector<double> weights;
  std::string selection_note;  // why a fallback
  // What its intervals are made of (forecast::ErrorProfile); empty without a backtest.
  std::vector<double> lead_scale;
  std::vector<double> unit_quantiles;
  // The rolling-origin backtest: its origins, the forecast's accuracy, every candidate's.
  int backtest_origins = 0;
  double backtest_smape = 0, backtest_mase = 0;
  std::vector<std::string> candidate_models;
  std::vector<double> candidate_smape, candidate_mase;
};

// A resource's newest joint sample paths (see forecast::SampleJointPaths).
struct ForecastPathsRecord {
  std::string resource_id;
  absl::Time computed_at;
  absl::Time first_hour;
  int paths = 0;
  int horizon = 0;
  std::vector<std::string> regions;
  // values[r][p * horizon + j]
  std::vector<std::vector<float>> values;
};

// One computation's joint sample paths summed over a window of `window_hours` starting at
// `start_hour`, per origin region (see forecast/path_sums.h).
struct PathSumsRecord {
  std::string resource_id;
  absl::Time computed_at;
  absl::Time start_hour;
  int window_hours = 0;
  int paths = 0;
  std::vector<std::string> regions;
  // sums[p * regions.size() + r]: path p's requests from region r over the window.
  std::vector<double> sums;
  // Per region: the point forecast's requests over the window, and in its first hour; the bytes
  // served per request before the computation (0 when none were).
  std::vector<double> expected;
  std::vector<double> first_hour_requests;
  std::vector<double> bytes_per_request;
};

// A stored forecast due for scoring: its id, resource, region, first hour and values.
struct UnscoredForecast {
  int64_t id = 0;
  std::string resource_id;
  std::string origin_region;
  absl::Time first_hour;
  std::vector<double> values;
  std::vector<double> lead_scale;
  std::vector<double> unit_quantiles;
  int history_hours = 0;
  absl::Time computed_at;
};

struct ForecastScore {
  int64_t id = 0;
  int hours = 0;
  double smape = 0, mase = 0;
  int hits_80 = 0, hits_95 = 0;
};

// Realized accuracy of a resource's scored forecasts for one region.
struct RealizedAccuracy {
  std::string origin_region;
  int forecasts = 0;
  double mean_smape = 0, mean_mase = 0;
  double coverage_80 = 0, coverage_95 = 0;  // shares of scored hours, 0..1
};

class ForecastRepository {
 public:
  explicit ForecastRepository(ConnectionPool* pool) : pool_(pool) {}

  // One transaction; sets each record's id.
  absl::Status Append(std::vector<ForecastRecord>& records);
  // The resource's newest computation: every record computed at the latest computed_at, by origin
  // region. Empty when none.
  absl::StatusOr<std::vector<ForecastRecord>> Latest(const std::string& resource_id);
  // Resources (not deleted) with demand since `demand_since` and no forecast whose first hour is
  // after `fresh_after`: those longest without one first, at most `limit`.
  absl::StatusOr<std::vector<std::string>> Due(absl::Time demand_since, absl::Time fresh_after,
                                               int limit);
  // Deletes forecasts computed before `cutoff`; returns how many.
  absl::StatusOr<int64_t> PruneBefore(absl::Time cutoff);

  // Replaces the resource's paths and their window sums in one transaction; values are stored as
  // 16-bit codes (relative error below 2e-5 of each hour's, or each region's sums', maximum).
  // Append deletes a resource's window sums, so that sums of an older computation never stand
  // beside newer forecasts.
  absl::Status UpsertPaths(const ForecastPathsRecord& paths,
                           const std::vector<PathSumsRecord>& sums = {});
  // NOT_FOUND when the resource has none.
  absl::StatusOr<ForecastPathsRecord> LatestPaths(const std::string& resource_id);
  // The window sums starting at `start_hour` over `window_hours` of each of `resource_ids` that
  // has them (one query), by resource id. Ids that are not UUIDs are skipped.
  absl::StatusOr<std::map<std::string, PathSumsRecord>> PathSumsAt(
      const std::vector<std::string>& resource_ids, absl::Time start_hour, int window_hours);

  // Forecasts not yet scored whose first `hours` hours ended by `before`, oldest first.
  absl::StatusOr<std::vector<UnscoredForecast>> Unscored(absl::Time before, int hours, int limit);
  absl::Status RecordScores(const std::vector<ForecastScore>& scores, absl::Time scored_at);
  // Per region, over forecasts first forecasting after `since`.
  absl::StatusOr<std::vector<RealizedAccuracy>> Realized(const std::string& resource_id,
                                                         absl::Time since);

 private:
  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_FORECAST_REPOSITORY_H_
