// Deleting what was recorded about a released reservation's clients (ReleaseRequest's
// purge_telemetry, migrations/0019_telemetry_purge.sql): the request, kept on the reservation,
// and the purge itself, one transaction per resource. Thread-safe (each call takes a pooled
// connection).
#ifndef SHADOWPLANE_STORE_TELEMETRY_PURGE_REPOSITORY_H_
#define SHADOWPLANE_STORE_TELEMETRY_PURGE_REPOSITORY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"

namespace shadowplane::store {

// Rows deleted by one purge, by table.
struct PurgedTelemetry {
  int64_t access_rows = 0;       // client_access_log
  int64_t utilization_rows = 0;  // instance_utilization
  int64_t demand_rows = 0;       // demand_hourly (its sketches are of the clients)
  int64_t affinity_rows = 0;     // client_affinity
  int64_t total() const { return access_rows + utilization_rows + demand_rows + affinity_rows; }
};

// A released (or failed) reservation whose telemetry is to be purged.
struct PurgeDue {
  std::string reservation_id;
  std::string resource_id;
  absl::Time requested_at;
};

class TelemetryPurgeRepository {
 public:
  explicit TelemetryPurgeRepository(ConnectionPool* pool) : pool_(pool) {}

  // Records the request (the first one's time is kept). NOT_FOUND when there is no such
  // reservation.
  absl::Status Request(const std::string& reservation_id, absl::Time now);
  // Released or failed reservations asked to be purged that were never purged, or last purged
  // before `settle` had passed since the request (events accepted before every replica knew of
  // the request may have been stored after that purge), oldest request first. With
  // `reservation_id` non-empty, only that one.
  absl::StatusOr<std::vector<PurgeDue>> Due(absl::Duration settle, int limit,
                                            const std::string& reservation_id = "");
  // Deletes the resource's telemetry and records `now` as the reservation's purge, in one
  // transaction.
  absl::StatusOr<PurgedTelemetry> Purge(const PurgeDue& due, absl::Time now);

 private:
  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_TELEMETRY_PURGE_REPOSITORY_H_
