// The agent's telemetry as it ships it (agent/telemetry_shipper.h): a batch of access records and
// utilization samples under one id, in the agent's own structs (api/telemetry_sink.h maps them to
// TelemetryService.RecordAccessBatch), with the spool's encoding (one tab-separated line per
// record, so that a torn or hostile file is refused line by line, never half-read).
#ifndef SHADOWPLANE_AGENT_TELEMETRY_BATCH_H_
#define SHADOWPLANE_AGENT_TELEMETRY_BATCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shadowplane::agent {

struct ShippedAccess {
  absl::Time at;
  std::string client_ip;
  std::string client_id;  // empty: none
  std::string resource_id;
  std::string instance_id;
  std::string request_type;
  int64_t bytes_in = 0;
  int64_t bytes_out = 0;
  double latency_ms = 0;
};

struct ShippedSample {
  absl::Time at;  // the end of the interval
  std::string instance_id;
  absl::Duration interval;
  double cpu_seconds = 0;
  int64_t memory_bytes = 0;
  int64_t net_bytes_in = 0;
  int64_t net_bytes_out = 0;
};

struct TelemetryBatch {
  std::string batch_id;
  std::vector<ShippedAccess> events;
  std::vector<ShippedSample> samples;
  int64_t records() const { return static_cast<int64_t>(events.size() + samples.size()); }
};

std::string EncodeBatch(const TelemetryBatch& batch);
// INVALID_ARGUMENT naming the line for anything malformed.
absl::StatusOr<TelemetryBatch> DecodeBatch(const std::string& text);

// What the control plane said to a batch.
struct BatchVerdict {
  enum class Kind {
    kCommitted,   // stored (or stored before: `duplicate`), `rejected` records aside
    kRefused,     // malformed for good: resending it as is cannot help
    kRetryLater,  // not committed (queue full, database away): resend after `retry_after`
  };
  Kind kind = Kind::kCommitted;
  bool duplicate = false;
  int64_t rejected = 0;
  std::string message;
  absl::Duration retry_after;
};

// Where batches go: the control plane's TelemetryService (api/telemetry_sink.h).
class TelemetrySink {
 public:
  virtual ~TelemetrySink() = default;
  // UNAVAILABLE when no replica answers.
  virtual absl::StatusOr<BatchVerdict> Send(const TelemetryBatch& batch) = 0;
};

}  // namespace shadowplane::agent

#endif  // SHADOWPLANE_AGENT_TELEMETRY_BATCH_H_
