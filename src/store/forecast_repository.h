// The `forecasts` table: every computed forecast of a resource's hourly demand per origin region,
// appended, read back newest first, pruned after the retention. Thread-safe (each call takes a
// pooled connection).
#ifndef SHADOWPLANE_STORE_FORECAST_REPOSITORY_H_
#define SHADOWPLANE_STORE_FORECAST_REPOSITORY_H_

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

 private:
  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_FORECAST_REPOSITORY_H_
