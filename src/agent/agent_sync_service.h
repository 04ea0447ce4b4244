// shadowplane.agent.v1.SyncService on an agent: SyncFrom (this agent is the target: it pulls an
// instance's tree from the source agent into one of its own instances) and Pull (this agent is
// the source). Synchronous gRPC handlers, because a round is a long blocking exchange of streams.
// Fault points (common/fault_point.h): "agent.sync_from.MODE" (quick, checksum, final) as a round
// starts here as the target, "agent.pull" as one starts here as the source.
//
// The agent keeps, per instance, a FileStateCache of hashes and signatures between rounds; only a
// sync writes into a shadow, so the cache stays true between rounds (and each entry is checked
// against the file's size, mtime and inode anyway). At most one round per target instance runs at
// a time. At start, temporary files left by a killed round are removed. Thread-safe.
#ifndef SHADOWPLANE_AGENT_AGENT_SYNC_SERVICE_H_
#define SHADOWPLANE_AGENT_AGENT_SYNC_SERVICE_H_

#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/instance_manager.h"
#include "common/grpc_channel_cache.h"
#include "shadowplane/agent/v1/sync.grpc.pb.h"
#include "sync/file_state_cache.h"
#include "sync/signature_warmer.h"

namespace prometheus {
class Registry;
class Counter;
template <typename T>
class Family;
class Histogram;
class Gauge;
}  // namespace prometheus

namespace shadowplane::agent {

struct AgentSyncOptions {
  int threads = 2;                           // files hashed, signed and delta-encoded in parallel
  int window = 6;                            // files in flight per round
  int64_t signature_cache_bytes = 64 << 20;  // per instance
  absl::Duration round_timeout = absl::Hours(1);
  // As a source: a heartbeat after this long without another message. As a target: a round whose
  // source has sent heartbeats and then nothing for `stall_timeout` is given up (UNAVAILABLE).
  absl::Duration heartbeat_interval = absl::Seconds(10);
  absl::Duration stall_timeout = absl::Seconds(60);
  // How source agents are reached: TLS, each source proving the location the request names
  // (source_location), or plaintext (null).
  std::shared_ptr<const TransportSecurity> security;
};

class AgentSyncService final : public shadowplane::agent::v1::SyncService::Service {
 public:
  AgentSyncService(agent::InstanceManager* manager, AgentSyncOptions options,
                   prometheus::Registry* registry);

  grpc::Status SyncFrom(grpc::ServerContext* context,
                        const shadowplane::agent::v1::SyncFromRequest* request,
                        shadowplane::agent::v1::SyncFromResponse* response) override;
  grpc::Status Pull(grpc::ServerContext* context,
                    grpc::ServerReaderWriter<shadowplane::agent::v1::PullResponse,
                                             shadowplane::agent::v1::PullRequest>* stream) override;

 private:
  absl::StatusOr<std::string> DataDir(const std::string& instance_id);
  absl::StatusOr<int64_t> Epoch(const std::string& instance_id);
  sync::FileStateCache* CacheFor(const std::string& instance_id);
  absl::Status RunSyncFrom(const shadowplane::agent::v1::SyncFromRequest& request,
                           shadowplane::agent::v1::SyncFromResponse* response);
  void RemoveLeftovers();

  agent::InstanceManager* const manager_;
  const AgentSyncOptions options_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<sync::FileStateCache>> caches_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> syncing_ ABSL_GUARDED_BY(mu_);
  GrpcChannelCache channels_;  // to source agents

  // Last: its thread uses the caches above.
  std::unique_ptr<sync::SignatureWarmer> warmer_;

  prometheus::Family<prometheus::Counter>* rounds_ = nullptr;
  prometheus::Family<prometheus::Counter>* bytes_ = nullptr;
  prometheus::Histogram* duration_ = nullptr;
  prometheus::Gauge* backlog_ = nullptr;
};

}  // namespace shadowplane::agent

#endif  // SHADOWPLANE_AGENT_AGENT_SYNC_SERVICE_H_
