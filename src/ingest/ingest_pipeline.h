// The ingest path behind TelemetryService, without gRPC: checks a batch's shape, validates it on
// the pipeline's own threads (never the RPC threads), queues it for the writer, and answers with
// the batch's acknowledgement once it committed, or with why not (queue full: RESOURCE_EXHAUSTED
// and when to retry; database gone: UNAVAILABLE). Thread-safe.
#ifndef SHADOWPLANE_INGEST_INGEST_PIPELINE_H_
#define SHADOWPLANE_INGEST_INGEST_PIPELINE_H_

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "common/worker_pool.h"
#include "ingest/access_batch.h"
#include "ingest/event_validator.h"
#include "ingest/ingest_writer.h"

namespace shadowplane::ingest {

struct PipelineOptions {
  // Events plus samples in one batch, at most.
  int max_batch_events = 10'000;
  int validate_threads = 2;
  size_t validate_queue = 1024;
};

class IngestPipeline {
 public:
  using AckDone = std::function<void(BatchAck)>;

  IngestPipeline(EventValidator* validator, IngestWriter* writer, PipelineOptions options);
  ~IngestPipeline();

  // INVALID_ARGUMENT naming the field when the batch cannot be taken at all (batch_id missing,
  // too long or with characters outside [A-Za-z0-9._:-]; more records than max_batch_events);
  // `done` is then not called. Otherwise `done` gets the acknowledgement, possibly before Record
  // returns (an empty batch is acknowledged at once, nothing written).
  absl::Status Record(std::shared_ptr<const AccessBatch> batch, AckDone done);

  // Stops validating; batches already queued still commit (IngestWriter::Stop).
  void Shutdown();

 private:
  EventValidator* const validator_;
  IngestWriter* const writer_;
  const PipelineOptions options_;
  WorkerPool workers_;
};

// The acknowledgement of a batch that was not taken: `code` and why, with a retry hint for
// RESOURCE_EXHAUSTED.
BatchAck RefusedAck(const std::string& batch_id, const absl::Status& status,
                    absl::Duration retry_after);

}  // namespace shadowplane::ingest

#endif  // SHADOWPLANE_INGEST_INGEST_PIPELINE_H_
