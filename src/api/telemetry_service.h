// shadowplane.v1.TelemetryService: thin handlers over ingest::IngestPipeline (RecordAccess,
// RecordAccessBatch) and ingest::DemandReader (GetDemand).
#ifndef SHADOWPLANE_API_TELEMETRY_SERVICE_H_
#define SHADOWPLANE_API_TELEMETRY_SERVICE_H_

#include "common/worker_pool.h"
#include "ingest/demand_reader.h"
#include "ingest/ingest_pipeline.h"
#include "shadowplane/v1/telemetry.grpc.pb.h"

namespace shadowplane::api {

class TelemetryService final : public shadowplane::v1::TelemetryService::CallbackService {
 public:
  // A stream stops reading while `max_in_flight_per_stream` of its batches await their
  // acknowledgement (HTTP/2 flow control then slows the sender). GetDemand runs on `workers`.
  TelemetryService(ingest::IngestPipeline* pipeline, ingest::DemandReader* demand,
                   WorkerPool* workers, int max_in_flight_per_stream)
      : pipeline_(pipeline),
        demand_(demand),
        workers_(workers),
        max_in_flight_per_stream_(max_in_flight_per_stream) {}

  grpc::ServerBidiReactor<shadowplane::v1::AccessBatch, shadowplane::v1::BatchAck>* RecordAccess(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* RecordAccessBatch(grpc::CallbackServerContext* context,
                                              const shadowplane::v1::AccessBatch* request,
                                              shadowplane::v1::BatchAck* response) override;
  grpc::ServerUnaryReactor* GetDemand(grpc::CallbackServerContext* context,
                                      const shadowplane::v1::GetDemandRequest* request,
                                      shadowplane::v1::GetDemandResponse* response) override;

 private:
  ingest::IngestPipeline* const pipeline_;
  ingest::DemandReader* const demand_;
  WorkerPool* const workers_;
  const int max_in_flight_per_stream_;
};

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_TELEMETRY_SERVICE_H_
