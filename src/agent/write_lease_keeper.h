// Keeps the write leases of the agent's read-write instances alive from the control plane
// (proto/shadowplane/agent/v1/write_lease.proto). Every round it sends every read-write
// instance's epoch in one call to the first control plane replica that answers, then:
//   granted     the instance's lease moves on to (send time + lease): counted from before the
//               request, so it never outlasts the control plane's record of it;
//   superseded  or not a writer: the instance is made read-only at once (fenced);
//   no answer   nothing: the lease runs out by itself and the instance stops taking writes.
// Rounds come every third of the last lease granted (at most `max_interval`), so a lease is
// renewed twice before it runs out. Thread-safe; runs its own thread until destroyed.
#ifndef SHADOWPLANE_AGENT_WRITE_LEASE_KEEPER_H_
#define SHADOWPLANE_AGENT_WRITE_LEASE_KEEPER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/instance_manager.h"

namespace prometheus {
class Registry;
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane {
class TransportSecurity;
}  // namespace shadowplane

namespace shadowplane::agent {

struct WriteLeaseKeeperOptions {
  // host:port of each control plane replica, tried in order from the last one that answered.
  std::vector<std::string> control_plane;
  std::string location;
  std::string token;  // the agent's bearer token for the control plane; empty: none
  // TLS (the agent's certificate is its identity) or plaintext; null: plaintext.
  std::shared_ptr<const TransportSecurity> security;
  absl::Duration max_interval = absl::Seconds(3);
  absl::Duration call_timeout = absl::Seconds(2);
};

// INVALID_ARGUMENT naming --control_plane unless `list` is one or more comma-separated host:port.
absl::StatusOr<std::vector<std::string>> ParseControlPlane(const std::string& list);

class WriteLeaseKeeper {
 public:
  // `manager` must outlive it; `registry` may be null.
  WriteLeaseKeeper(WriteLeaseKeeperOptions options, InstanceManager* manager,
                   prometheus::Registry* registry);
  ~WriteLeaseKeeper();

  // One round now (tests; the thread calls it too). OK when some replica answered.
  absl::Status RenewOnce();

 private:
  struct Channels;
  void Run();

  const WriteLeaseKeeperOptions options_;
  InstanceManager* const manager_;
  std::unique_ptr<Channels> channels_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration interval_ ABSL_GUARDED_BY(mu_);
  size_t preferred_ ABSL_GUARDED_BY(mu_) = 0;
  prometheus::Family<prometheus::Counter>* renewals_ = nullptr;
  std::thread thread_;
};

}  // namespace shadowplane::agent

#endif  // SHADOWPLANE_AGENT_WRITE_LEASE_KEEPER_H_
