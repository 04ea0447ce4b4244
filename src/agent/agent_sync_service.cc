#include "agent/agent_sync_service.h"

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/agent_peer_check.h"
#include "agent/agent_protocol_check.h"
#include "common/fault_point.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "sync/pull_client.h"
#include "sync/pull_source.h"
#include "sync/safe_path.h"
#include "sync/sync_mode.h"
#include "sync/tree.h"
#include "sync/tree_ops.h"

namespace shadowplane::agent {

namespace pb = shadowplane::agent::v1;

AgentSyncService::AgentSyncService(agent::InstanceManager* manager, AgentSyncOptions options,
                                   prometheus::Registry* registry)
    : manager_(manager), options_(options), channels_(options.security) {
  if (registry != nullptr) {
    rounds_ = &prometheus::BuildCounter()
                   .Name("shadowplane_agent_sync_rounds_total")
                   .Help(
                       "Sync rounds served by this agent, by role (target, source) and result "
                       "(ok, error, refused: the source was in an older epoch than the target).")
                   .Register(*registry);
    bytes_ = &prometheus::BuildCounter()
                  .Name("shadowplane_agent_sync_bytes_total")
                  .Help(
                      "Bytes of sync rounds this agent ran as target, by kind (literal, "
                      "matched, signature, wire).")
                  .Register(*registry);
    duration_ = &prometheus::BuildHistogram()
                     .Name("shadowplane_agent_sync_duration_seconds")
                     .Help("Duration of sync rounds this agent ran as target.")
                     .Register(*registry)
                     .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.25, 0.5, 1,
                                                                      2.5, 5, 10, 30, 60, 300});
    backlog_ = &prometheus::BuildGauge()
                    .Name("shadowplane_agent_sync_signature_backlog")
                    .Help(
                        "Rebuilt files waiting to be signed in the background for the next "
                        "round.")
                    .Register(*registry)
                    .Add({});
  }
  warmer_ = std::make_unique<sync::SignatureWarmer>([this](size_t backlog) {
    if (backlog_ != nullptr) backlog_->Set(static_cast<double>(backlog));
  });
  RemoveLeftovers();
}

void AgentSyncService::RemoveLeftovers() {
  for (const agent::InstanceView& view : manager_->List()) {
    absl::StatusOr<UniqueFd> root = sync::OpenDirectory(view.data_dir);
    if (!root.ok()) continue;
    absl::StatusOr<sync::TreeScan> scan = sync::ScanTree(root->get());
    if (!scan.ok()) continue;
    for (const std::string& temp : scan->temporaries) {
      absl::Status s = sync::RemovePath(root->get(), temp);
      LOG_EVENT(kInfo, "removed a temporary file left by an interrupted sync")
          .Field("instance", view.config.instance_id)
          .Field("path", temp)
          .Field("ok", s.ok());
    }
  }
}

absl::StatusOr<std::string> AgentSyncService::DataDir(const std::string& instance_id) {
  ASSIGN_OR_RETURN(agent::InstanceView view, manager_->Describe(instance_id));
  return view.data_dir;
}

absl::StatusOr<int64_t> AgentSyncService::Epoch(const std::string& instance_id) {
  ASSIGN_OR_RETURN(agent::InstanceView view, manager_->Describe(instance_id));
  return view.config.epoch;
}

sync::FileStateCache* AgentSyncService::CacheFor(const std::string& instance_id) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<sync::FileStateCache>& cache = caches_[instance_id];
  if (cache == nullptr) {
    cache = std::make_unique<sync::FileStateCache>(options_.signature_cache_bytes);
  }
  return cache.get();
}

grpc::Status AgentSyncService::SyncFrom(grpc::ServerContext* context,
                                        const pb::SyncFromRequest* request,
                                        pb::SyncFromResponse* response) {
  if (absl::Status s = CheckPeer(context, AllowedPeers::kControlPlane); !s.ok()) {
    return ToGrpcStatus(s);
  }
  if (absl::Status s = CheckProtocol(context); !s.ok()) return ToGrpcStatus(s);
  absl::Status status = RunSyncFrom(*request, response);
  if (rounds_ != nullptr) {
    const char* result = status.ok()                          ? "ok"
                         : absl::IsFailedPrecondition(status) ? "refused"
                                                              : "error";
    rounds_->Add({{"role", "target"}, {"result", result}}).Increment();
  }
  if (status.ok() && bytes_ != nullptr) {
    const pb::SyncStats& stats = response->stats();
    bytes_->Add({{"kind", "literal"}}).Increment(stats.bytes_literal());
    bytes_->Add({{"kind", "matched"}}).Increment(stats.bytes_matched());
    bytes_->Add({{"kind", "signature"}}).Increment(stats.bytes_signature());
    bytes_->Add({{"kind", "wire"}}).Increment(stats.bytes_wire());
    duration_->Observe(stats.duration_seconds());
  }
  LogLine event(status.ok() ? LogLevel::kInfo : LogLevel::kWarning, "sync round");
  event.Field("source_instance", request->source_instance_id())
      .Field("target_instance", request->target_instance_id())
      .Field("mode", sync::SyncModeName(request->mode()))
      .Field("ok", status.ok());
  if (status.ok()) {
    event.Field("files_transferred", response->stats().files_transferred())
        .Field("bytes_wire", response->stats().bytes_wire())
        .Field("dirty_files", response->dirty_files())
        .Field("seconds", response->stats().duration_seconds());
  } else {
    event.Field("error", status);
  }
  return ToGrpcStatus(status);
}

absl::Status AgentSyncService::RunSyncFrom(const pb::SyncFromRequest& request,
                                           pb::SyncFromResponse* response) {
  if (request.source_endpoint().empty()) {
    return absl::InvalidArgumentError("source_endpoint is required");
  }
  if (request.source_location().empty()) {
    return absl::InvalidArgumentError(
        "source_location is required: the source agent must prove it with its certificate");
  }
  if (request.source_instance_id().empty()) {
    return absl::InvalidArgumentError("source_instance_id is required");
  }
  if (request.target_instance_id().empty()) {
    return absl::InvalidArgumentError("target_instance_id is required");
  }
  pb::SyncMode mode = request.mode() == pb::SYNC_MODE_UNSPECIFIED ? pb::QUICK : request.mode();
  if (mode != pb::QUICK && mode != pb::CHECKSUM && mode != pb::FINAL) {
    return absl::InvalidArgumentError("mode must be QUICK, CHECKSUM or FINAL");
  }
  FaultPoint(absl::StrCat("agent.sync_from.", sync::SyncModeName(mode)));
  for (const std::string& path : request.paths()) {
    if (absl::Status s = sync::ValidateRelativePath(path); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("paths: ", s.message()));
    }
  }
  ASSIGN_OR_RETURN(std::string target_dir, DataDir(request.target_instance_id()));
  {
    absl::MutexLock lock(&mu_);
    if (!syncing_.insert(request.target_instance_id()).second) {
      return absl::AbortedError(absl::StrCat("a sync into instance ", request.target_instance_id(),
                                             " is already running"));
    }
  }
  absl::Cleanup done = [&] {
    absl::MutexLock lock(&mu_);
    syncing_.erase(request.target_instance_id());
  };
  sync::PullOptions options;
  options.channel =
      channels_.Get(request.source_endpoint(), AgentIdentity(request.source_location()));
  options.source_instance_id = request.source_instance_id();
  options.mode = mode;
  options.paths.assign(request.paths().begin(), request.paths().end());
  options.target_dir = target_dir;
  options.cache = CacheFor(request.target_instance_id());
  options.threads = options_.threads;
  options.window = options_.window;
  options.timeout = options_.round_timeout;
  options.stall_timeout = options_.stall_timeout;
  std::vector<std::string> unsigned_files;
  options.unsigned_files = &unsigned_files;
  options.target_epoch = [this, &request]() -> absl::StatusOr<int64_t> {
    return Epoch(request.target_instance_id());
  };
  options.target_writable = [this, &request]() -> absl::StatusOr<bool> {
    ASSIGN_OR_RETURN(agent::InstanceView view, manager_->Describe(request.target_instance_id()));
    return !view.config.read_only;
  };
  absl::StatusOr<pb::SyncFromResponse> result = sync::PullTree(options);
  // Even after a failed round, the files it did rebuild are worth signing for the next one.
  warmer_->Enqueue(target_dir, options.cache, unsigned_files);
  RETURN_IF_ERROR(result.status());
  *response = *std::move(result);
  return absl::OkStatus();
}

grpc::Status AgentSyncService::Pull(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<pb::PullResponse, pb::PullRequest>* stream) {
  if (absl::Status s = CheckPeer(context, AllowedPeers::kControlPlaneOrAgents); !s.ok()) {
    return ToGrpcStatus(s);
  }
  if (absl::Status s = CheckProtocol(context); !s.ok()) return ToGrpcStatus(s);
  sync::PullSourceEnvironment env;
  env.data_dir = [this](const std::string& id) { return DataDir(id); };
  env.cache = [this](const std::string& id) { return CacheFor(id); };
  env.epoch = [this](const std::string& id) { return Epoch(id); };
  env.threads = options_.threads;
  // Targets from before protocol 2 would take a heartbeat for a malformed message.
  if (CallerProtocol(context) >= 2) env.heartbeat_interval = options_.heartbeat_interval;
  FaultPoint("agent.pull");
  absl::Status status = sync::ServePull(stream, env);
  if (rounds_ != nullptr) {
    rounds_->Add({{"role", "source"}, {"result", status.ok() ? "ok" : "error"}}).Increment();
  }
  if (!status.ok() && !absl::IsCancelled(status)) {
    LOG_EVENT(kWarning, "pull failed").Field("error", status.ToString());
  }
  return ToGrpcStatus(status);
}

}  // namespace shadowplane::agent
