// Spot interruptions and what was done about each instance they named (`spot_interruptions`,
// `spot_fallbacks`, migrations/0017_spot.sql). Thread-safe (each call takes a pooled connection).
#ifndef SHADOWPLANE_STORE_SPOT_REPOSITORY_H_
#define SHADOWPLANE_STORE_SPOT_REPOSITORY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"

namespace shadowplane::store {

struct SpotFallbackRecord {
  std::string interruption_id;
  std::string instance_id;
  std::string resource_id;
  std::string role;  // primary, shadow
  std::string state = "pending";
  std::string migration_id;  // empty: none started yet
  std::string outcome;       // empty while pending
  std::string detail;
  std::optional<absl::Time> traffic_at;
  std::optional<absl::Time> finished_at;
  int attempts = 0;
  // From the interruption.
  std::string location;
  absl::Time received_at;
  absl::Time deadline;  // real time
};

struct SpotInterruptionRecord {
  std::string id;
  std::string location;
  absl::Time received_at;
  absl::Time deadline;  // real time
  std::string reason;
  std::vector<SpotFallbackRecord> fallbacks;
};

// An instance an interruption may touch.
struct SpotInstance {
  std::string instance_id;
  std::string resource_id;
  std::string role;  // primary, shadow, target, retired
  std::string location;
  std::string capacity_type;
  std::string state;
  bool reservation_active = false;
};

class SpotRepository {
 public:
  explicit SpotRepository(ConnectionPool* pool) : pool_(pool) {}

  // Live instances of active reservations on spot at `location`; or, with `ids`, those
  // instances whatever they run on (NOT_FOUND naming the first unknown one).
  absl::StatusOr<std::vector<SpotInstance>> Affected(const std::string& location,
                                                     const std::vector<std::string>& ids);
  // Stores the interruption and its fallbacks (pending) in one transaction; returns its id.
  absl::StatusOr<std::string> Record(const SpotInterruptionRecord& interruption);
  // With its fallbacks. NOT_FOUND for an unknown id.
  absl::StatusOr<SpotInterruptionRecord> Get(const std::string& id);
  // Every pending fallback, oldest interruption first.
  absl::StatusOr<std::vector<SpotFallbackRecord>> Pending();
  // Saves role, state, migration_id, outcome, detail, traffic_at, finished_at and attempts.
  absl::Status Save(const SpotFallbackRecord& fallback);

 private:
  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_SPOT_REPOSITORY_H_
