// What migrations did to their resources' clients (`migration_disruptions`,
// migrations/0018_affinity_timing.sql), and the clients affine to a resource (`client_affinity`:
// seen within a session window). Thread-safe (each call takes a pooled connection).
#ifndef SHADOWPLANE_STORE_DISRUPTION_REPOSITORY_H_
#define SHADOWPLANE_STORE_DISRUPTION_REPOSITORY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"

namespace shadowplane::store {

struct DisruptionRecord {
  std::string migration_id;
  absl::Time measured_at;
  int64_t affine_clients = 0;
  int64_t disrupted_affine_clients = 0;
  int64_t disrupted_other_clients = 0;
  // Of the affine clients:
  int64_t held_requests = 0;
  int64_t failed_requests = 0;
  int64_t forwarded_requests = 0;
  int64_t closed_connections = 0;
  int64_t stale_reads = 0;
  bool truncated = false;  // an instance lost some events: the counts are a lower bound
  std::string error;       // why nothing could be measured (the counts are then 0)
};

class DisruptionRepository {
 public:
  explicit DisruptionRepository(ConnectionPool* pool) : pool_(pool) {}

  // The first record of a migration stands (a retried step does not replace it); *saved says
  // whether this one was written.
  absl::Status Save(const DisruptionRecord& record, bool* saved = nullptr);
  // nullopt when the migration has none (yet).
  absl::StatusOr<std::optional<DisruptionRecord>> Get(const std::string& migration_id);

  // How many clients of `resource_id` were seen at or after `since`.
  absl::StatusOr<int64_t> CountAffine(const std::string& resource_id, absl::Time since);
  // The same for many resources at once (resources without any are absent).
  absl::StatusOr<std::map<std::string, int64_t>> CountAffine(
      const std::vector<std::string>& resource_ids, absl::Time since);
  // Which of `clients` (client keys) were seen at or after `since`.
  absl::StatusOr<std::vector<std::string>> AffineAmong(const std::string& resource_id,
                                                       const std::vector<std::string>& clients,
                                                       absl::Time since);

 private:
  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_DISRUPTION_REPOSITORY_H_
