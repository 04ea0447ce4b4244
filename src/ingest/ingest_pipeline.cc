#include "ingest/ingest_pipeline.h"

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"

namespace shadowplane::ingest {

namespace pb = shadowplane::v1;

namespace {

constexpr size_t kMaxBatchIdBytes = 128;

bool BatchIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

absl::Status CheckShape(const pb::AccessBatch& batch, int max_records) {
  const std::string& id = batch.batch_id();
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
  const int records = batch.events_size() + batch.samples_size();
  if (records > max_records) {
    return absl::InvalidArgumentError(absl::StrCat("batch ", id, " holds ", records,
                                                   " events and samples, more than ", max_records,
                                                   " (--max_batch_events): split it"));
  }
  return absl::OkStatus();
}

void FillCounts(const store::BatchCounts& counts, pb::BatchAck* ack) {
  ack->set_events_accepted(counts.events_accepted);
  ack->set_events_demand_only(counts.events_demand_only);
  ack->set_samples_accepted(counts.samples_accepted);
  for (const store::RejectionCount& r : counts.rejections) {
    pb::Rejection* out = ack->add_rejections();
    out->set_reason(r.reason);
    out->set_count(r.count);
    for (int i : r.first_events) out->add_first_event_indexes(i);
    for (int i : r.first_samples) out->add_first_sample_indexes(i);
  }
}

}  // namespace

pb::BatchAck RefusedAck(const std::string& batch_id, const absl::Status& status,
                        absl::Duration retry_after) {
  pb::BatchAck ack;
  ack.set_batch_id(batch_id);
  ack.set_code(static_cast<int>(status.code()));
  ack.set_message(std::string(status.message()));
  if (absl::IsResourceExhausted(status) || absl::IsUnavailable(status)) {
    *ack.mutable_retry_after() = ToProtoDuration(retry_after);
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

absl::Status IngestPipeline::Record(std::shared_ptr<const pb::AccessBatch> batch, AckDone done) {
  if (absl::Status s = CheckShape(*batch, options_.max_batch_events); !s.ok()) return s;
  if (batch->events_size() == 0 && batch->samples_size() == 0) {
    pb::BatchAck ack;
    ack.set_batch_id(batch->batch_id());
    done(std::move(ack));
    return absl::OkStatus();
  }
  const std::string id = batch->batch_id();
  auto shared_done = std::make_shared<AckDone>(std::move(done));
  const absl::Duration retry_after = writer_->options().retry_after;
  absl::Status queued = workers_.Submit([this, batch = std::move(batch), shared_done, retry_after] {
    ValidatedBatch validated = validator_->Validate(*batch);
    const std::string id = batch->batch_id();
    absl::Status submitted = writer_->Submit(
        std::move(validated), [id, shared_done](absl::StatusOr<BatchResult> result) {
          if (!result.ok()) {
            (*shared_done)(RefusedAck(id, result.status(), absl::Seconds(1)));
            return;
          }
          pb::BatchAck ack;
          ack.set_batch_id(id);
          ack.set_duplicate(result->duplicate);
          FillCounts(result->counts, &ack);
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
