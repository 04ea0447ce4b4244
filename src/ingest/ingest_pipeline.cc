#include "ingest/ingest_pipeline.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace shadowplane::ingest {

namespace {

constexpr size_t kMaxBatchIdBytes = 128;

bool BatchIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

absl::Status CheckShape(const AccessBatch& batch, size_t max_records) {
  const std::string& id = batch.batch_id;
  if (id.empty()) return absl::InvalidArgumentError("batch_id is required");
  if (id.size() > kMaxBatchIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch_id is ", id.size(), " bytes, more than ", kMaxBatchIdBytes));
  }
  for (char c : id) {
    if (!BatchIdChar(c)) {
      return absl::InvalidArgumentError(
          "batch_id may hold only letters, digits and . _ : - (a UUID is a good choice)");
    }
  }
  const size_t records = batch.events.size() + batch.samples.size();
  if (records > max_records) {
    return absl::InvalidArgumentError(absl::StrCat("batch ", id, " holds ", records,
                                                   " events and samples, more than ", max_records,
                                                   " (--max_batch_events): split it"));
  }
  return absl::OkStatus();
}

}  // namespace

BatchAck RefusedAck(const std::string& batch_id, const absl::Status& status,
                    absl::Duration retry_after) {
  BatchAck ack;
  ack.batch_id = batch_id;
  ack.code = status.code();
  ack.message = std::string(status.message());
  if (absl::IsResourceExhausted(status) || absl::IsUnavailable(status)) {
    ack.retry_after = retry_after;
  }
  return ack;
}

IngestPipeline::IngestPipeline(EventValidator* validator, IngestWriter* writer,
                               PipelineOptions options)
    : validator_(validator),
      writer_(writer),
      options_(options),
      workers_("ingest", options.validate_threads, options.validate_queue) {}

IngestPipeline::~IngestPipeline() { Shutdown(); }

void IngestPipeline::Shutdown() { workers_.Shutdown(); }

absl::Status IngestPipeline::Record(std::shared_ptr<const AccessBatch> batch, AckDone done) {
  const size_t max_records = static_cast<size_t>(std::max(0, options_.max_batch_events));
  if (absl::Status s = CheckShape(*batch, max_records); !s.ok()) return s;
  if (batch->events.empty() && batch->samples.empty()) {
    BatchAck ack;
    ack.batch_id = batch->batch_id;
    done(std::move(ack));
    return absl::OkStatus();
  }
  const std::string id = batch->batch_id;
  auto shared_done = std::make_shared<AckDone>(std::move(done));
  const absl::Duration retry_after = writer_->options().retry_after;
  absl::Status queued = workers_.Submit([this, batch = std::move(batch), shared_done, retry_after] {
    ValidatedBatch validated = validator_->Validate(*batch);
    const std::string id = batch->batch_id;
    absl::Status submitted = writer_->Submit(
        std::move(validated), [id, shared_done](absl::StatusOr<BatchResult> result) {
          if (!result.ok()) {
            (*shared_done)(RefusedAck(id, result.status(), absl::Seconds(1)));
            return;
          }
          BatchAck ack;
          ack.batch_id = id;
          ack.duplicate = result->duplicate;
          ack.counts = std::move(result->counts);
          (*shared_done)(std::move(ack));
        });
    if (!submitted.ok()) (*shared_done)(RefusedAck(id, submitted, retry_after));
  });
  if (!queued.ok()) {
    (*shared_done)(RefusedAck(
        id, absl::ResourceExhaustedError(absl::StrCat("ingest busy: ", queued.message())),
        retry_after));
  }
  return absl::OkStatus();
}

}  // namespace shadowplane::ingest
