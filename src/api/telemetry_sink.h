// The agent's telemetry to the control plane (agent/telemetry_shipper.h): its batches mapped to
// TelemetryService.RecordAccessBatch, sent to the first replica that answers (from the last one
// that did), and the acknowledgement mapped back to a verdict. Thread-safe.
#ifndef SHADOWPLANE_API_TELEMETRY_SINK_H_
#define SHADOWPLANE_API_TELEMETRY_SINK_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "agent/telemetry_batch.h"
#include "common/transport_security.h"
#include "shadowplane/v1/telemetry.pb.h"

namespace shadowplane::api {

// The public message of a batch.
v1::AccessBatch AccessBatchOf(const agent::TelemetryBatch& batch);

class GrpcTelemetrySink final : public agent::TelemetrySink {
 public:
  // `control_plane`: host:port of each replica (agent/write_lease_keeper.h's ParseControlPlane).
  // `token`: sent as `authorization: Bearer` (empty: none). `security`: TLS with the agent's
  // certificate, or plaintext (null).
  GrpcTelemetrySink(std::vector<std::string> control_plane, absl::Duration call_timeout,
                    std::string token = "",
                    std::shared_ptr<const TransportSecurity> security = nullptr);
  ~GrpcTelemetrySink() override;

  absl::StatusOr<agent::BatchVerdict> Send(const agent::TelemetryBatch& batch) override;

 private:
  struct Channels;
  const std::vector<std::string> control_plane_;
  const absl::Duration call_timeout_;
  const std::string token_;
  std::unique_ptr<Channels> channels_;
  absl::Mutex mu_;
  size_t preferred_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_TELEMETRY_SINK_H_
