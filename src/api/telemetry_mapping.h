// shadowplane.v1.TelemetryService's messages <-> ingest's structs (ingest/access_batch.h,
// ingest/demand_reader.h). A timestamp outside google.protobuf.Timestamp's range is passed on as
// malformed, so that the validator refuses that record alone and keeps the rest of the batch.
#ifndef SHADOWPLANE_API_TELEMETRY_MAPPING_H_
#define SHADOWPLANE_API_TELEMETRY_MAPPING_H_

#include "absl/status/statusor.h"
#include "ingest/access_batch.h"
#include "ingest/demand_reader.h"
#include "shadowplane/v1/telemetry.pb.h"

namespace shadowplane::api {

// Moves the strings out of `batch`.
ingest::AccessBatch FromProto(shadowplane::v1::AccessBatch&& batch);

void ToProto(const ingest::BatchAck& ack, shadowplane::v1::BatchAck* out);

// INVALID_ARGUMENT naming from, to or granularity when the wire cannot say what was asked.
absl::StatusOr<ingest::DemandQuery> FromProto(const shadowplane::v1::GetDemandRequest& request);
void ToProto(const ingest::Demand& demand, shadowplane::v1::GetDemandResponse* out);

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_TELEMETRY_MAPPING_H_
