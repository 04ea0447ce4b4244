// Read-only queries the reconcilers need about what should exist: which locations have agents,
// which resources are live. Thread-safe (each call takes a pooled connection).
#ifndef SHADOWPLANE_STORE_INVENTORY_STORE_H_
#define SHADOWPLANE_STORE_INVENTORY_STORE_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "store/connection_pool.h"

namespace shadowplane::store {

class InventoryStore {
 public:
  explicit InventoryStore(ConnectionPool* pool) : pool_(pool) {}

  // Location name -> agent endpoint, for every location that names one.
  absl::StatusOr<std::map<std::string, std::string>> AgentEndpoints();
  // NOT_FOUND when the location does not exist or has no agent endpoint.
  absl::StatusOr<std::string> AgentEndpoint(const std::string& location);
  // The subset of `resource_ids` that exist and are not deleted. Ids that are not UUIDs are
  // simply not live.
  absl::StatusOr<std::set<std::string>> LiveResources(const std::vector<std::string>& resource_ids);
  // The endpoints of the instances recorded as live (not stopped or failed) at `location`.
  absl::StatusOr<std::vector<std::string>> LiveInstanceEndpoints(const std::string& location);
  // Which of these instance ids are recorded as live (not stopped or failed).
  absl::StatusOr<std::set<std::string>> RecordedInstances(
      const std::vector<std::string>& instance_ids);

 private:
  ConnectionPool* const pool_;
};

// Runs `fn` only if this process wins the session-level advisory lock `key` (held for the call),
// so that exactly one of several replicas does a piece of background work. Returns false, without
// running `fn`, when another session holds the lock.
absl::StatusOr<bool> RunUnderAdvisoryLock(ConnectionPool& pool, int64_t key,
                                          const std::function<absl::Status()>& fn);

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_INVENTORY_STORE_H_
