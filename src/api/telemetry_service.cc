#include "api/telemetry_service.h"

#include <deque>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "api/telemetry_mapping.h"
#include "common/call_gate.h"
#include "common/grpc_unary.h"
#include "common/status_macros.h"

namespace shadowplane::api {

namespace pb = shadowplane::v1;

namespace {

// What a batch may speak of, by who sent it: an agent its own location's instances, an operator
// its team's resources; an admin (or anyone, without authentication) anything.
void ConfineTo(const GateCaller& sender, ingest::AccessBatch* batch) {
  batch->sender_location = sender.agent_location;
  if (!sender.name.empty() && !sender.admin && sender.agent_location.empty()) {
    batch->sender_team = sender.team;
  }
}

// One RecordAccess stream: reads batches, hands each to the pipeline, writes acknowledgements in
// the order they come. It finishes once the client stopped sending and every batch it sent has
// been answered (the pipeline's callbacks point at this reactor, so it must outlive them).
// gRPC calls are made outside the mutex: a reaction may run on the calling thread.
class RecordAccessReactor final : public grpc::ServerBidiReactor<pb::AccessBatch, pb::BatchAck> {
 public:
  // `sender`: who sends (an agent's batches name only its instances, an operator's only its
  // team's resources).
  RecordAccessReactor(ingest::IngestPipeline* pipeline, int max_in_flight, GateCaller sender)
      : pipeline_(pipeline), max_in_flight_(max_in_flight), sender_(std::move(sender)) {
    reading_ = std::make_unique<pb::AccessBatch>();
    StartRead(reading_.get());
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      absl::MutexLock lock(&mu_);
      reads_done_ = true;
      Act(lock);
      return;
    }
    // Moved out of the message on this thread: cheap, and the pipeline keeps the struct.
    auto received = std::make_shared<ingest::AccessBatch>(FromProto(std::move(*reading_)));
    ConfineTo(sender_, received.get());
    std::shared_ptr<const ingest::AccessBatch> batch = std::move(received);
    reading_.reset();
    {
      absl::MutexLock lock(&mu_);
      ++in_flight_;
    }
    const std::string id = batch->batch_id;
    absl::Status taken = pipeline_->Record(std::move(batch),
                                           [this](ingest::BatchAck ack) { OnAck(std::move(ack)); });
    if (!taken.ok()) OnAck(ingest::RefusedAck(id, taken, absl::ZeroDuration()));
    absl::MutexLock lock(&mu_);
    if (in_flight_ < max_in_flight_) {
      read_next_ = true;
    } else {
      read_paused_ = true;
    }
    Act(lock);
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      client_gone_ = true;  // acknowledgements can no longer be delivered
      acks_.clear();
    }
    Act(lock);
  }

  void OnDone() override { delete this; }

 private:
  void OnAck(const ingest::BatchAck& ack) {
    pb::BatchAck reply;
    ToProto(ack, &reply);
    absl::MutexLock lock(&mu_);
    --in_flight_;
    if (!client_gone_) acks_.push_back(std::move(reply));
    if (read_paused_ && in_flight_ < max_in_flight_) {
      read_paused_ = false;
      read_next_ = true;
    }
    Act(lock);
  }

  // Decides the next gRPC operations under the lock and starts them after releasing it.
  void Act(absl::MutexLock& lock) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    bool read = false, write = false, finish = false;
    if (read_next_ && !reads_done_) {
      read_next_ = false;
      reading_ = std::make_unique<pb::AccessBatch>();
      read = true;
    }
    if (!writing_ && !acks_.empty()) {
      writing_ = true;
      writing_ack_ = std::move(acks_.front());
      acks_.pop_front();
      write = true;
    }
    if (reads_done_ && in_flight_ == 0 && acks_.empty() && !writing_ && !finished_) {
      finished_ = true;
      finish = true;
    }
    mu_.Unlock();
    if (read) StartRead(reading_.get());
    if (write) StartWrite(&writing_ack_);
    if (finish) Finish(grpc::Status::OK);
    mu_.Lock();
    (void)lock;
  }

  ingest::IngestPipeline* const pipeline_;
  const int max_in_flight_;
  const GateCaller sender_;
  std::unique_ptr<pb::AccessBatch> reading_;  // touched by the reading side only
  absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool read_next_ ABSL_GUARDED_BY(mu_) = false;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool client_gone_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<pb::BatchAck> acks_ ABSL_GUARDED_BY(mu_);
  pb::BatchAck writing_ack_;  // owned by the write in progress
};

}  // namespace

grpc::ServerBidiReactor<pb::AccessBatch, pb::BatchAck>* TelemetryService::RecordAccess(
    grpc::CallbackServerContext* context) {
  if (absl::Status verdict = AccessVerdict(context); !verdict.ok()) {
    return new RefusedBidi<pb::AccessBatch, pb::BatchAck>(verdict);
  }
  return new RecordAccessReactor(pipeline_, max_in_flight_per_stream_, CallGate::CallerOf(context));
}

grpc::ServerUnaryReactor* TelemetryService::RecordAccessBatch(grpc::CallbackServerContext* context,
                                                              const pb::AccessBatch* request,
                                                              pb::BatchAck* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status verdict = AccessVerdict(context); !verdict.ok()) {
    reactor->Finish(ToGrpcStatus(verdict));
    return reactor;
  }
  // The request lives until the call finishes, which is after the acknowledgement.
  auto batch = std::make_shared<ingest::AccessBatch>(FromProto(pb::AccessBatch(*request)));
  ConfineTo(CallGate::CallerOf(context), batch.get());
  const absl::Status taken =
      pipeline_->Record(std::move(batch), [reactor, context, response](ingest::BatchAck ack) {
        if (ack.code == absl::StatusCode::kOk) {
          ToProto(ack, response);
          reactor->Finish(grpc::Status::OK);
          return;
        }
        if (ack.retry_after > absl::ZeroDuration()) {
          context->AddTrailingMetadata("retry-after-ms",
                                       absl::StrCat(absl::ToInt64Milliseconds(ack.retry_after)));
        }
        reactor->Finish(grpc::Status(static_cast<grpc::StatusCode>(ack.code), ack.message));
      });
  if (!taken.ok()) reactor->Finish(ToGrpcStatus(taken));
  return reactor;
}

grpc::ServerUnaryReactor* TelemetryService::GetDemand(grpc::CallbackServerContext* context,
                                                      const pb::GetDemandRequest* request,
                                                      pb::GetDemandResponse* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    ASSIGN_OR_RETURN(const ingest::DemandQuery query, FromProto(*request));
    ASSIGN_OR_RETURN(const ingest::Demand demand, demand_->Read(query));
    ToProto(demand, response);
    return absl::OkStatus();
  });
}

}  // namespace shadowplane::api
