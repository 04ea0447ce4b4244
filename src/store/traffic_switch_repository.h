// The `traffic_switches` audit table: one row per traffic switch, written before it starts and
// completed when it ends. Thread-safe (each call takes a pooled connection).
#ifndef SHADOWPLANE_STORE_TRAFFIC_SWITCH_REPOSITORY_H_
#define SHADOWPLANE_STORE_TRAFFIC_SWITCH_REPOSITORY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"

namespace shadowplane::store {

struct TrafficSwitchRecord {
  int64_t id = 0;
  std::string resource_id;
  std::string provider;
  std::string service_name;
  std::string from_target;
  std::string to_target;
  bool urgent = false;
  std::string reason;
  absl::Time started_at;
  std::optional<absl::Time> finished_at;
  std::string result = "running";  // running, ok, failed
  std::string error;
};

class TrafficSwitchRepository {
 public:
  explicit TrafficSwitchRepository(ConnectionPool* pool) : pool_(pool) {}

  // Inserts a running switch; returns its id.
  absl::StatusOr<int64_t> Start(const TrafficSwitchRecord& record);
  // Completes it: ok, or failed with `error`.
  absl::Status Finish(int64_t id, absl::Time finished_at, bool ok, const std::string& error);
  // A resource's switches, newest first.
  absl::StatusOr<std::vector<TrafficSwitchRecord>> ForResource(const std::string& resource_id,
                                                               int limit);

 private:
  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_TRAFFIC_SWITCH_REPOSITORY_H_
