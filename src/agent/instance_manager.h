// The agent's instances at one location: their processes (shadowplane-instance, one per
// instance, each on a loopback address of its own), supervised and restarted, and reconfigured
// through the reload handshake. What it builds on, one job each: the directory layout and its
// staging (agent/instance_layout.h), the location's capacity and addresses
// (agent/capacity_ledger.h), and the instance's status endpoint (agent/instance_status_client.h).
//
// Instances outlive the agent: they run in sessions of their own, and Open() re-adopts running
// ones from their pid files (and starts those that should run but do not). A crashed instance is
// restarted with exponential backoff. Creation builds the instance in a staging directory and
// renames it into place, so a failure never leaves half an instance. Thread-safe.
//
// Fencing: a read-write instance takes writes only while its write lease holds; the lease and its
// epoch come with CreateInstance/SetReadOnly from the control plane and are renewed by
// agent/write_lease_keeper.h. An adopted or restarted instance keeps the lease it had, so one
// whose lease ran out meanwhile takes no writes until the control plane renews it.
//
// Fault points (common/fault_point.h), for crash tests: "agent.create.after_launch",
// "agent.scale.after_save", "agent.read_only.after_save", "agent.writable.after_save",
// "agent.freeze.after_save", "agent.write_routing.after_save" (the config saved and signalled,
// the caller not yet answered).
#ifndef SHADOWPLANE_AGENT_INSTANCE_MANAGER_H_
#define SHADOWPLANE_AGENT_INSTANCE_MANAGER_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/capacity_ledger.h"
#include "agent/instance_layout.h"
#include "common/backoff.h"
#include "common/capacity.h"
#include "instance/disruption_log.h"
#include "instance/instance_config.h"

namespace prometheus {
class Registry;
class Counter;
template <typename T>
class Family;
class Gauge;
}  // namespace prometheus

namespace shadowplane::agent {

struct InstanceManagerOptions {
  std::string data_root;
  // Instances are seeded only from directories inside this one (agent/instance_layout.h,
  // CheckSeedDir); empty: no seeds.
  std::string seed_root;
  std::string location;
  // Self-monitoring of new instances (instance/access_log.h): record every answered request, and
  // believe X-Forwarded-For from these proxies (canonical addresses; e.g. the local HAProxy).
  bool record_accesses = true;
  std::vector<std::string> trusted_proxies;
  // Instances get NETWORK.1 ... NETWORK.254 (e.g. "127.0.1" gives 127.0.1.1 ...), all on one port.
  std::string instance_network = "127.0.1";
  int instance_port = 8080;
  int64_t capacity_millicores = 8000;
  int64_t capacity_memory_mib = 16384;
  std::string instance_binary;
  absl::Duration start_timeout = absl::Seconds(10);
  absl::Duration poll_interval = absl::Milliseconds(200);
  absl::Duration restart_backoff_initial = absl::Milliseconds(200);
  absl::Duration restart_backoff_max = absl::Seconds(30);
  // How long SetReadOnly/SetWriteRouting wait for the instance to apply the change; above the
  // instance's own bound on draining the writes it had admitted (30 s).
  absl::Duration apply_timeout = absl::Seconds(35);
};

enum class InstanceState { kStarting, kRunning, kRestarting, kStopped };
const char* InstanceStateName(InstanceState state);

struct InstanceView {
  instance::InstanceConfig config;
  InstanceState state = InstanceState::kStopped;
  pid_t pid = 0;
  int64_t restarts = 0;
  int64_t requests = 0;
  int64_t bytes_received = 0;
  int64_t bytes_sent = 0;
  std::string data_dir;
  std::string endpoint() const;
};

// Write authority handed to an instance (store/write_lease_repository.h): the epoch and the end of
// its lease on this machine's clock.
struct WriteGrant {
  int64_t epoch = 0;
  absl::Time lease_until = absl::InfinitePast();
};

struct CreateInstanceSpec {
  std::string instance_id;
  std::string resource_id;
  Capacity capacity;
  bool read_only = true;
  std::string seed_dir;
  WriteGrant grant;  // required when read-write
  // The resource's secret for forwarded requests (instance/forward_auth.h); empty: none.
  std::string forward_secret;
};

class InstanceManager {
 public:
  // FAILED_PRECONDITION when the data root cannot be created or written, or the instance binary
  // is missing. Adopts or starts the instances found, then supervises them until destroyed.
  // `registry` may be null.
  static absl::StatusOr<std::unique_ptr<InstanceManager>> Open(InstanceManagerOptions options,
                                                               prometheus::Registry* registry);
  // Stops supervising; instances keep running (they outlive the agent).
  ~InstanceManager();

  // INVALID_ARGUMENT (field named) for a bad id, capacity or seed directory; RESOURCE_EXHAUSTED
  // when the location's free capacity or addresses do not suffice; ALREADY_EXISTS for an id with a
  // different spec; FAILED_PRECONDITION when the instance cannot listen (address in use).
  absl::StatusOr<InstanceView> Create(const CreateInstanceSpec& spec);
  absl::StatusOr<InstanceView> Scale(const std::string& id, const Capacity& capacity);
  // Both return once the running instance has applied the change: after a change that stops its
  // local writes, no write is applied there any more (the ones it had admitted are on disk).
  // UNAVAILABLE when it has not within `apply_timeout`.
  // Making it read-write takes a grant (INVALID_ARGUMENT naming grant.epoch without one).
  absl::StatusOr<InstanceView> SetReadOnly(const std::string& id, bool read_only,
                                           const WriteGrant& grant = WriteGrant());
  // Fencing, for the write lease keeper (agent/write_lease_keeper.h). ExtendLease moves the lease
  // of a read-write instance granted in `epoch` on to `until` (never back); FAILED_PRECONDITION
  // when it is read-only, deactivated or in another epoch. Fence makes it read-only (its write
  // routing stays as it is) because the control plane refused to renew the lease the instance
  // held at config `generation`; a config changed since (a grant that raced the refusal) is
  // left alone, for the next renewal to judge.
  absl::Status ExtendLease(const std::string& id, int64_t epoch, absl::Time until);
  absl::StatusOr<InstanceView> Fence(const std::string& id, int64_t generation,
                                     int64_t current_epoch);
  // Holds writes (a cutover's freeze) and/or forwards them (an old primary; forwarding also makes
  // it read-only, in the same reconfiguration); see instance/file_server.h. `forward_secret` (the
  // resource's; empty: the one the instance has) signs what it forwards. INVALID_ARGUMENT naming
  // the field for a bad hold, endpoint or secret.
  absl::StatusOr<InstanceView> SetWriteRouting(const std::string& id, bool hold_writes, int hold_ms,
                                               const std::string& forward_writes_to,
                                               const std::string& forward_secret = "");
  absl::StatusOr<InstanceView> Deactivate(const std::string& id, bool delete_data);
  absl::StatusOr<InstanceView> Describe(const std::string& id);
  std::vector<InstanceView> List();
  // Asks the running instance what moves did to its clients since `since` (real time).
  // UNAVAILABLE when it is not running or does not answer.
  absl::StatusOr<instance::DisruptionReport> Disruptions(const std::string& id, absl::Time since);

  Capacity total() const;
  Capacity used();
  const InstanceManagerOptions& options() const { return options_; }

 private:
  struct Managed;

  explicit InstanceManager(InstanceManagerOptions options);
  absl::Status Adopt();
  void Supervise();
  // Starts the process and waits until it listens. Caller holds mu_.
  absl::Status Launch(Managed& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status StopProcess(Managed& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Alive(Managed& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Signal(Managed& m, int sig) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<Managed*> Find(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckCapacity(const Capacity& wanted, const std::string& replacing)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::string> AllocateAddress() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Saves the config with the next generation and signals the process to reload it.
  absl::Status SaveAndReload(Managed& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits until the running process reports the saved generation as applied.
  absl::StatusOr<InstanceView> AwaitApplied(const std::string& id) ABSL_LOCKS_EXCLUDED(mu_);
  InstanceView View(const Managed& m) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void PollCounters();
  void UpdateStateGauges() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const InstanceManagerOptions options_;
  const InstanceLayout layout_;
  const CapacityLedger ledger_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Managed>> instances_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread supervisor_;

  prometheus::Family<prometheus::Gauge>* state_gauges_ = nullptr;
  prometheus::Counter* restarts_total_ = nullptr;
  prometheus::Counter* bytes_sent_total_ = nullptr;
  prometheus::Counter* bytes_received_total_ = nullptr;
  prometheus::Counter* requests_total_ = nullptr;
};

// INVALID_ARGUMENT unless `id` is 1-64 of [a-z0-9-], not starting with '-'.
absl::Status ValidateInstanceId(const std::string& id, const std::string& field);

}  // namespace shadowplane::agent

#endif  // SHADOWPLANE_AGENT_INSTANCE_MANAGER_H_
