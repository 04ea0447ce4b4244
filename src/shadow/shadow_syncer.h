// Orders one sync round of a reservation's shadow and records its outcome. The control plane
// never touches the data: it asks the shadow's agent to pull from the primary's agent
// (agent.v1.SyncService.SyncFrom) and writes what the agent reports to sync_runs.
//
// Never two rounds of the same reservation at once in this process (the second is ABORTED); the
// scheduler's lease keeps other replicas from starting periodic rounds. Thread-safe.
#ifndef SHADOWPLANE_SHADOW_SHADOW_SYNCER_H_
#define SHADOWPLANE_SHADOW_SHADOW_SYNCER_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/grpc_channel_cache.h"
#include "shadow/target_sync.h"
#include "store/inventory_store.h"
#include "store/reservation_repository.h"
#include "store/sync_run_repository.h"

namespace prometheus {
class Registry;
class Counter;
template <typename T>
class Family;
class Histogram;
}  // namespace prometheus

namespace shadowplane::shadow {

struct ShadowSyncerOptions {
  // Longest a round may take before it is abandoned.
  absl::Duration round_timeout = absl::Minutes(30);
  // TLS to the agents (each proving its location) or plaintext (null).
  std::shared_ptr<const TransportSecurity> security;
};

class ShadowSyncer final : public TargetSync {
 public:
  // `registry` may be null. Everything else must outlive the syncer.
  ShadowSyncer(store::ReservationRepository* reservations, store::InventoryStore* inventory,
               store::SyncRunRepository* runs, const Clock* clock, ShadowSyncerOptions options,
               prometheus::Registry* registry);

  // Runs one round and records it. kFull is a checksum round over every file; kFinal a final
  // round (the source must be frozen) over `final_paths` (empty: all). Errors: NOT_FOUND (no such
  // reservation), FAILED_PRECONDITION (not active, no running shadow, a location without an
  // agent), ABORTED (a round is running), and the agent's error for a failed round (recorded).
  absl::StatusOr<SyncOutcome> Sync(const std::string& reservation_id, SyncTrigger trigger,
                                   const std::vector<std::string>& final_paths = {});
  // The same round from the primary into `target_instance_id` instead of the shadow: a
  // migration's target (TargetSync).
  absl::StatusOr<SyncOutcome> SyncInto(const std::string& reservation_id,
                                       const std::string& target_instance_id, SyncTrigger trigger,
                                       const std::vector<std::string>& final_paths = {}) override;
  bool Running(const std::string& reservation_id);

 private:
  // Claims the reservation for one round (ABORTED when a round runs) and runs it.
  absl::StatusOr<SyncOutcome> ClaimAndRun(const store::ReservationRecord& r,
                                          const store::InstanceRecord& target, SyncTrigger trigger,
                                          const std::vector<std::string>& final_paths);
  absl::StatusOr<SyncOutcome> RunRound(const store::ReservationRecord& r,
                                       const store::InstanceRecord& target, SyncTrigger trigger,
                                       const std::vector<std::string>& final_paths);
  void CountFailure(const absl::Status& status);

  store::ReservationRepository* const reservations_;
  store::InventoryStore* const inventory_;
  store::SyncRunRepository* const runs_;
  const Clock* const clock_;
  const ShadowSyncerOptions options_;
  absl::Mutex mu_;
  std::set<std::string> running_ ABSL_GUARDED_BY(mu_);
  GrpcChannelCache channels_;  // to the shadows' agents

  prometheus::Family<prometheus::Counter>* rounds_ = nullptr;
  prometheus::Family<prometheus::Counter>* bytes_ = nullptr;
  prometheus::Counter* wire_bytes_ = nullptr;
  prometheus::Family<prometheus::Counter>* failures_ = nullptr;
  prometheus::Family<prometheus::Histogram>* duration_ = nullptr;
};

}  // namespace shadowplane::shadow

#endif  // SHADOWPLANE_SHADOW_SHADOW_SYNCER_H_
