// The shadowplane-agent process, wired from its options: the instance manager for this location,
// the agent gRPC service with health and reflection, and /metrics. Health is SERVING once the
// data root is usable and the instances found there are adopted.
#ifndef SHADOWPLANE_SERVER_AGENT_SERVER_H_
#define SHADOWPLANE_SERVER_AGENT_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/agent_sync_service.h"
#include "agent/instance_manager.h"
#include "agent/telemetry_shipper.h"
#include "agent/write_lease_keeper.h"
#include "common/transport_security.h"

namespace shadowplane::server {

struct AgentServerOptions {
  std::string listen = "127.0.0.1:50061";
  std::string metrics_listen = "127.0.0.1:9465";
  absl::Duration shutdown_grace = absl::Seconds(10);
  // TLS (the agent's certificate names <location>.agent.shadowplane; callers must present one the
  // CA signed) or plaintext; null: plaintext.
  std::shared_ptr<const TransportSecurity> transport;
  std::string tls_cert;  // the certificate file, for its expiry metric; empty with plaintext
  agent::InstanceManagerOptions instances;
  agent::AgentSyncOptions sync;
  // Control plane replicas (host:port) that renew the instances' write leases; empty: none, so
  // read-write instances take writes only until the lease they were created with runs out.
  std::vector<std::string> control_plane;
  // Sent as `authorization: Bearer` on calls to the control plane (a token of role agent for this
  // location, api/access/token_store.h); empty: none.
  std::string control_plane_token;
  // The instances' own telemetry, shipped to the control plane when there is one
  // (agent/telemetry_shipper.h); spool_dir empty: <data_root>/telemetry-spool.
  agent::TelemetryShipperOptions telemetry;
};

class AgentServer {
 public:
  // FAILED_PRECONDITION saying why when the data root or a port cannot be used.
  static absl::StatusOr<std::unique_ptr<AgentServer>> Start(const AgentServerOptions& options);
  ~AgentServer();

  // Thread-safe, idempotent.
  void Shutdown();
  // Blocks until Shutdown(), then stops serving gracefully. Instances keep running.
  void Wait();

  int grpc_port() const;

  class Impl;

 private:
  explicit AgentServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// /var/lib/shadowplane-agent for root, else $XDG_DATA_HOME or ~/.local/share, /shadowplane-agent.
std::string DefaultAgentDataRoot();

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_AGENT_SERVER_H_
