// Where instances run. A ComputeProvider creates, scales, switches the mode of, deactivates and
// describes instances at named locations; the `local` provider drives shadowplane-agents, cloud
// providers will drive cloud APIs. Implementations are thread-safe.
//
// Errors: INVALID_ARGUMENT naming the field, NOT_FOUND for an unknown instance or location,
// RESOURCE_EXHAUSTED when the location lacks capacity, FAILED_PRECONDITION when the request cannot
// apply in the current state, UNAVAILABLE when the location cannot be reached (retriable).
#ifndef SHADOWPLANE_PROVIDERS_COMPUTE_PROVIDER_H_
#define SHADOWPLANE_PROVIDERS_COMPUTE_PROVIDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/capacity.h"

namespace shadowplane::providers {

// Write authority over a resource (store/write_lease_repository.h): the epoch and how long the
// lease holds, counted by the location from when it receives the grant.
struct WriteGrant {
  int64_t epoch = 0;
  absl::Duration lease = absl::ZeroDuration();
};

struct InstanceSpec {
  std::string instance_id;  // chosen by the caller, so that a retried create is idempotent
  std::string resource_id;
  std::string location;
  Capacity capacity;
  bool read_only = true;
  // Optional: a directory at the location whose tree becomes the instance's data.
  std::string seed_dir;
  WriteGrant grant;  // required when read-write
  // The resource's secret for write forwarding between its instances (instance/forward_auth.h).
  std::string forward_secret;
};

enum class InstanceRunState { kStarting, kRunning, kRestarting, kStopped, kDeleted };

// Where an instance's writes go around a traffic switch (see instance/file_server.h).
struct WriteRouting {
  bool hold_writes = false;                // a cutover's freeze
  absl::Duration hold = absl::Seconds(5);  // the longest one write is held
  // The old primary forwards writes to the new one (IP:port); it is made read-only in the same
  // step.
  std::string forward_writes_to;
  // With forward_writes_to: the resource's secret, which the new primary checks.
  std::string forward_secret;
};

struct InstanceInfo {
  std::string instance_id;
  std::string resource_id;
  std::string location;
  Capacity capacity;
  bool read_only = true;
  bool hold_writes = false;
  std::string forward_writes_to;
  int64_t epoch = 0;
  absl::Duration write_lease_left = absl::ZeroDuration();  // 0: takes no writes
  InstanceRunState state = InstanceRunState::kStopped;
  std::string endpoint;  // host:port that clients (and DNS records) use
  int64_t restarts = 0;
  int64_t requests = 0;
  int64_t bytes_received = 0;
  int64_t bytes_sent = 0;
};

// What moves did to one client of an instance, as the instance recorded it
// (instance/disruption_log.h).
struct ClientDisruption {
  std::string client;       // "id:<client id>" or "ip:<address>"
  int64_t held = 0;         // requests held by a freeze, answered late
  int64_t failed = 0;       // a hold that expired, a forward that failed
  int64_t forwarded = 0;    // passed on to the new primary
  int64_t closed = 0;       // kept-alive connections the instance ended
  int64_t stale_reads = 0;  // reads answered from data that may lack a newer write
};

struct InstanceDisruptions {
  std::vector<ClientDisruption> clients;
  bool truncated = false;  // the instance lost some of the events: counts are a lower bound
};

class ComputeProvider {
 public:
  virtual ~ComputeProvider() = default;

  virtual absl::StatusOr<InstanceInfo> CreateInstance(const InstanceSpec& spec) = 0;
  virtual absl::StatusOr<InstanceInfo> ScaleInstance(const std::string& location,
                                                     const std::string& instance_id,
                                                     const Capacity& capacity) = 0;
  // Making an instance read-write goes through GrantWrites(); here `read_only` false is refused
  // by locations that fence.
  virtual absl::StatusOr<InstanceInfo> SetReadOnly(const std::string& location,
                                                   const std::string& instance_id,
                                                   bool read_only) = 0;
  // Makes the instance read-write under `grant`; FAILED_PRECONDITION when it holds a newer epoch.
  virtual absl::StatusOr<InstanceInfo> GrantWrites(const std::string& location,
                                                   const std::string& instance_id,
                                                   const WriteGrant& grant) = 0;
  virtual absl::StatusOr<InstanceInfo> SetWriteRouting(const std::string& location,
                                                       const std::string& instance_id,
                                                       const WriteRouting& routing) = 0;
  // Stops the instance and frees its capacity; with delete_data its data goes too.
  virtual absl::StatusOr<InstanceInfo> DeactivateInstance(const std::string& location,
                                                          const std::string& instance_id,
                                                          bool delete_data) = 0;
  virtual absl::StatusOr<InstanceInfo> DescribeInstance(const std::string& location,
                                                        const std::string& instance_id) = 0;
  virtual absl::StatusOr<std::vector<InstanceInfo>> ListInstances(const std::string& location) = 0;
  // Per client, what moves did to the instance's clients since `since` (real time).
  virtual absl::StatusOr<InstanceDisruptions> Disruptions(const std::string& location,
                                                          const std::string& instance_id,
                                                          absl::Time since) = 0;
};

}  // namespace shadowplane::providers

#endif  // SHADOWPLANE_PROVIDERS_COMPUTE_PROVIDER_H_
