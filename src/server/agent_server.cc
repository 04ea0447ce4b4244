#include "server/agent_server.h"

#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "agent/agent_service.h"
#include "agent/agent_sync_service.h"
#include "api/health_service.h"
#include "api/telemetry_sink.h"
#include "common/certificate_expiry_metric.h"
#include "common/log.h"
#include "common/serving_status.h"
#include "common/status_macros.h"
#include "common/worker_pool.h"
#include "server/serving_endpoints.h"

namespace shadowplane::server {

std::string DefaultAgentDataRoot() {
  if (geteuid() == 0) return "/var/lib/shadowplane-agent";
  if (const char* xdg = getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    return absl::StrCat(xdg, "/shadowplane-agent");
  }
  if (const char* home = getenv("HOME"); home != nullptr && *home != '\0') {
    return absl::StrCat(home, "/.local/share/shadowplane-agent");
  }
  return "shadowplane-agent-data";
}

namespace {

// The instances whose telemetry is shipped: the running ones.
std::vector<agent::ShippedInstance> RunningInstances(agent::InstanceManager& manager) {
  std::vector<agent::ShippedInstance> out;
  for (const agent::InstanceView& v : manager.List()) {
    if (!v.config.active || v.state != agent::InstanceState::kRunning) continue;
    out.push_back({v.config.instance_id, v.config.resource_id, v.config.address, v.config.port,
                   v.pid, v.config.agent_key});
  }
  return out;
}

}  // namespace

class AgentServer::Impl {
 public:
  explicit Impl(const AgentServerOptions& options) : options_(options) {}

  absl::Status Start() {
    registry_ = std::make_shared<prometheus::Registry>();
    for (const char* service : {"", "grpc.health.v1.Health", "shadowplane.agent.v1.AgentService",
                                "shadowplane.agent.v1.SyncService"}) {
      serving_.Set(service, false);
    }
    ASSIGN_OR_RETURN(manager_, agent::InstanceManager::Open(options_.instances, registry_.get()));
    ASSIGN_OR_RETURN(exposer_, StartMetricsEndpoint(options_.metrics_listen, "metrics_listen",
                                                    registry_, &metrics_port_));
    if (!options_.tls_cert.empty()) {
      cert_expiry_ = std::make_shared<CertificateExpiryMetric>(options_.tls_cert);
      exposer_->RegisterCollectable(cert_expiry_);
    }
    health_ = std::make_unique<api::HealthService>(&serving_);
    rpc_workers_ = std::make_unique<WorkerPool>("rpc", 8, 1024);
    agent_service_ = std::make_unique<agent::AgentService>(manager_.get(), rpc_workers_.get());
    const std::shared_ptr<const TransportSecurity> transport =
        options_.transport != nullptr ? options_.transport : TransportSecurity::Insecure();
    agent::AgentSyncOptions sync = options_.sync;
    sync.security = transport;
    sync_service_ =
        std::make_unique<agent::AgentSyncService>(manager_.get(), sync, registry_.get());
    GrpcServerSpec spec;
    spec.listen = options_.listen;
    spec.services = {health_.get(), agent_service_.get(), sync_service_.get()};
    // Only the control plane and peer agents: each handler names which (agent/agent_peer_check.h).
    spec.credentials = transport->ServerCredentials(ClientCertificates::kRequired);
    spec.registry = registry_.get();
    ASSIGN_OR_RETURN(grpc_server_, StartGrpcServer(spec, &grpc_port_));
    if (!options_.control_plane.empty()) {
      agent::WriteLeaseKeeperOptions leases;
      leases.control_plane = options_.control_plane;
      leases.location = options_.instances.location;
      leases.token = options_.control_plane_token;
      leases.security = transport;
      lease_keeper_ =
          std::make_unique<agent::WriteLeaseKeeper>(leases, manager_.get(), registry_.get());
      agent::TelemetryShipperOptions telemetry = options_.telemetry;
      if (telemetry.spool_dir.empty()) {
        telemetry.spool_dir = absl::StrCat(options_.instances.data_root, "/telemetry-spool");
      }
      telemetry_sink_ = std::make_unique<api::GrpcTelemetrySink>(
          options_.control_plane, absl::Seconds(5), options_.control_plane_token, transport);
      agent::InstanceManager* manager = manager_.get();
      ASSIGN_OR_RETURN(shipper_, agent::TelemetryShipper::Start(
                                     telemetry, [manager] { return RunningInstances(*manager); },
                                     telemetry_sink_.get(), registry_.get()));
    }
    serving_.SetAll(true);
    LOG_EVENT(kInfo, "shadowplane-agent started")
        .Field("location", options_.instances.location)
        .Field("grpc", absl::StrCat(HostOf(options_.listen), ":", grpc_port_))
        .Field("metrics", absl::StrCat("http://", HostOf(options_.metrics_listen), ":",
                                       metrics_port_, "/metrics"))
        .Field("transport", transport->tls() ? "tls" : "plaintext (--insecure)")
        .Field("data_root", options_.instances.data_root)
        .Field("instances", manager_->List().size())
        .Field("control_plane", absl::StrJoin(options_.control_plane, ","));
    return absl::OkStatus();
  }

  void Stop() {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }

  void Wait() {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(&stop_));
    }
    TearDown();
  }

  void TearDown() {
    if (health_ != nullptr) health_->Shutdown();
    StopGrpcServer(grpc_server_, rpc_workers_.get(), options_.shutdown_grace);
    lease_keeper_.reset();
    shipper_.reset();  // what it read is spooled; the next agent ships it
    manager_.reset();  // instances keep running; the next agent adopts them
    exposer_.reset();
  }

  int grpc_port_ = 0;
  int metrics_port_ = 0;

 private:
  const AgentServerOptions options_;
  std::shared_ptr<prometheus::Registry> registry_;
  ServingStatus serving_;
  std::unique_ptr<agent::InstanceManager> manager_;
  std::unique_ptr<agent::WriteLeaseKeeper> lease_keeper_;
  std::unique_ptr<api::GrpcTelemetrySink> telemetry_sink_;
  std::unique_ptr<agent::TelemetryShipper> shipper_;
  std::shared_ptr<CertificateExpiryMetric> cert_expiry_;  // scraped through exposer_
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::unique_ptr<api::HealthService> health_;
  std::unique_ptr<WorkerPool> rpc_workers_;
  std::unique_ptr<agent::AgentService> agent_service_;
  std::unique_ptr<agent::AgentSyncService> sync_service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
};

AgentServer::AgentServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AgentServer::~AgentServer() { impl_->TearDown(); }

absl::StatusOr<std::unique_ptr<AgentServer>> AgentServer::Start(const AgentServerOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  if (absl::Status s = impl->Start(); !s.ok()) {
    impl->TearDown();
    return s;
  }
  return std::unique_ptr<AgentServer>(new AgentServer(std::move(impl)));
}

void AgentServer::Shutdown() { impl_->Stop(); }
void AgentServer::Wait() { impl_->Wait(); }
int AgentServer::grpc_port() const { return impl_->grpc_port_; }

}  // namespace shadowplane::server
