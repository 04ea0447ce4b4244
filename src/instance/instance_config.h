// What an instance process serves and with how much capacity, kept as instance.yaml in the
// instance directory. The agent writes it (atomically) and signals the instance (SIGHUP) to reload,
// so capacity and read-only mode change without a restart and survive one.
#ifndef SHADOWPLANE_INSTANCE_INSTANCE_CONFIG_H_
#define SHADOWPLANE_INSTANCE_INSTANCE_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/capacity.h"

namespace shadowplane::instance {

struct InstanceConfig {
  std::string instance_id;
  std::string resource_id;
  Capacity capacity;
  bool read_only = true;
  // Desired state: false once deactivated (the agent then neither runs nor restarts it).
  bool active = true;
  // Where the instance listens; fixed for the instance's life so DNS can name it.
  std::string address;
  int port = 0;
  // A cutover's write freeze: writes wait (at most write_hold_ms) until it is lifted, then go
  // where the new config says (applied here, forwarded, or refused).
  bool hold_writes = false;
  int write_hold_ms = 5000;
  // A read-only instance with this endpoint (host:port, the new primary) forwards writes there
  // instead of refusing them: clients that still reach the old primary after a traffic switch
  // (a cached DNS answer, an open connection) lose nothing.
  std::string forward_writes_to;
  // Counts the agent's saves. The instance reports the generation it has applied, and it applies
  // one that stops local writes (read-only or a freeze) only once the writes it had already
  // admitted are on disk: a final sync that starts after that misses nothing.
  int64_t generation = 0;
  // Fencing (store/write_lease_repository.h): the epoch of the resource's write authority this
  // instance was last granted or synced from, and until when (Unix milliseconds, this machine's
  // clock) its write lease holds. A read-write instance applies writes only before that time:
  // once its agent stops renewing the lease, it refuses them by itself (503 with Retry-After).
  int64_t epoch = 0;
  int64_t write_lease_until_ms = 0;
  // Self-monitoring (instance/access_log.h): whether every answered request is recorded, and the
  // proxies (exact addresses, canonical text) whose X-Forwarded-For names the client
  // (instance/client_address.h).
  bool record_accesses = true;
  std::vector<std::string> trusted_proxies;
  // instance/forward_auth.h: the resource's secret for forwarded requests (empty: none, so the
  // instance neither signs nor takes any request as forwarded), and the key the agent presents
  // for the views that name clients. Secrets: the file is readable by its owner only.
  std::string forward_secret;
  std::string agent_key;

  // Whether a local write may be applied at `now`: read-write and within the lease.
  bool LeaseHolds(absl::Time now) const { return !read_only && LeaseUnexpired(now); }
  // The time bound alone: a write admitted before the instance was made read-only may still
  // commit (the new config is not reported applied until it has), but never past the lease.
  bool LeaseUnexpired(absl::Time now) const {
    return now < absl::FromUnixMillis(write_lease_until_ms);
  }

  bool operator==(const InstanceConfig& o) const {
    return instance_id == o.instance_id && resource_id == o.resource_id && capacity == o.capacity &&
           read_only == o.read_only && active == o.active && address == o.address &&
           port == o.port && hold_writes == o.hold_writes && write_hold_ms == o.write_hold_ms &&
           forward_writes_to == o.forward_writes_to && generation == o.generation &&
           epoch == o.epoch && write_lease_until_ms == o.write_lease_until_ms &&
           record_accesses == o.record_accesses && trusted_proxies == o.trusted_proxies &&
           forward_secret == o.forward_secret && agent_key == o.agent_key;
  }
};

absl::StatusOr<InstanceConfig> LoadInstanceConfig(const std::string& path);
absl::Status SaveInstanceConfig(const InstanceConfig& config, const std::string& path);

// How capacity becomes serving limits. One worker thread per 250 millicores (at least 1, at most
// 64), and 1 request per second per millicore: 1 vCPU serves up to 1000 requests per second.
int WorkerThreadsFor(const Capacity& capacity);
double RequestsPerSecondFor(const Capacity& capacity);

}  // namespace shadowplane::instance

#endif  // SHADOWPLANE_INSTANCE_INSTANCE_CONFIG_H_
