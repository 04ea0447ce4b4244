// A batch of access records as a peer sent it, before any check, and the acknowledgement it gets.
// Fields as on shadowplane.v1.AccessBatch and BatchAck; the API layer maps them
// (api/telemetry_mapping.h). Nothing here is trusted: EventValidator checks every field.
#ifndef SHADOWPLANE_INGEST_ACCESS_BATCH_H_
#define SHADOWPLANE_INGEST_ACCESS_BATCH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "store/access_log_store.h"

namespace shadowplane::ingest {

struct AccessEvent {
  std::optional<absl::Time> time;
  // The sender's timestamp could not be read (outside google.protobuf.Timestamp's range):
  // refused as invalid_field.
  bool time_malformed = false;
  std::string client_ip;
  std::string resource_id;
  std::string instance_id;  // optional
  std::string request_type;
  int64_t bytes_in = 0;
  int64_t bytes_out = 0;
  std::optional<double> latency_ms;
  double cpu_millis = 0;
  int64_t memory_bytes = 0;
  std::string client_id;      // optional; wins over the IP for affinity
  std::string origin_region;  // optional; wins over the IP lookup
};

// An instance's resource use over [time - interval, time).
struct UtilizationSample {
  std::optional<absl::Time> time;
  bool time_malformed = false;  // as AccessEvent::time_malformed
  std::string instance_id;
  std::optional<absl::Duration> interval;
  double cpu_seconds = 0;
  int64_t memory_bytes = 0;
  int64_t net_bytes_in = 0;
  int64_t net_bytes_out = 0;
};

struct AccessBatch {
  std::string batch_id;
  // Set when an agent sent it: each event and sample must name an instance at this location
  // (refused as foreign_instance otherwise), so an agent reports only on its own instances.
  std::string sender_location;
  // Set when an operator sent it (unset for admins, agents and servers without authentication):
  // each event and sample must concern a resource of this team (refused as foreign_resource
  // otherwise), so that no team steers another's forecasts, and with them its moves.
  std::optional<std::string> sender_team;
  std::vector<AccessEvent> events;
  std::vector<UtilizationSample> samples;
};

struct BatchAck {
  std::string batch_id;
  // OK: committed. RESOURCE_EXHAUSTED: not taken, resend after `retry_after`. UNAVAILABLE: not
  // committed, resend. INVALID_ARGUMENT: malformed, do not resend as is.
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string message;
  absl::Duration retry_after = absl::ZeroDuration();  // zero: none given
  store::BatchCounts counts;
  bool duplicate = false;  // committed before; the counts are those of that first commit
};

}  // namespace shadowplane::ingest

#endif  // SHADOWPLANE_INGEST_ACCESS_BATCH_H_
