#include "api/health_service.h"

#include <memory>
#include <optional>
#include <string>

namespace shadowplane::api {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

namespace {

HealthCheckResponse::ServingStatus ToProto(std::optional<bool> serving) {
  if (!serving.has_value()) return HealthCheckResponse::SERVICE_UNKNOWN;
  return *serving ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
}

}  // namespace

// One Watch stream. Status changes arrive on the thread that set them; writes go out one at a
// time, and only the newest status is kept while a write is in flight.
class HealthWatchReactor final : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  HealthWatchReactor(HealthService* service, std::string watched)
      : service_(service), watched_(std::move(watched)), mailbox_(std::make_shared<Mailbox>()) {
    mailbox_->reactor = this;
    // Listeners may run after this reactor is gone; the mailbox outlives it and goes quiet.
    subscription_ = service_->status_->Subscribe(
        watched_, [mailbox = mailbox_](bool serving) { mailbox->Deliver(ToProto(serving)); });
    Update(ToProto(service_->status_->Get(watched_)));
  }

  void Update(HealthCheckResponse::ServingStatus status) {
    absl::MutexLock lock(&mu_);
    pending_ = status;
    Pump();
  }

  void RequestFinish() {
    absl::MutexLock lock(&mu_);
    finish_requested_ = true;
    Pump();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    write_in_flight_ = false;
    if (!ok) cancelled_ = true;
    Pump();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    Pump();
  }

  void OnDone() override {
    service_->status_->Unsubscribe(subscription_);
    {
      absl::MutexLock lock(&mailbox_->mu);
      mailbox_->reactor = nullptr;
    }
    service_->Forget(this);
    delete this;
  }

 private:
  struct Mailbox {
    absl::Mutex mu;
    HealthWatchReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;
    void Deliver(HealthCheckResponse::ServingStatus status) {
      absl::MutexLock lock(&mu);
      if (reactor != nullptr) reactor->Update(status);
    }
  };

  void Pump() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || write_in_flight_) return;
    if (cancelled_) {
      finished_ = true;
      Finish(grpc::Status::CANCELLED);
      return;
    }
    if (pending_.has_value() && pending_ != last_sent_) {
      response_.set_status(*pending_);
      last_sent_ = pending_;
      pending_.reset();
      write_in_flight_ = true;
      StartWrite(&response_);
      return;
    }
    if (finish_requested_) {
      finished_ = true;
      Finish(grpc::Status::OK);
    }
  }

  HealthService* const service_;
  const std::string watched_;
  std::shared_ptr<Mailbox> mailbox_;
  int64_t subscription_ = 0;
  absl::Mutex mu_;
  HealthCheckResponse response_ ABSL_GUARDED_BY(mu_);
  std::optional<HealthCheckResponse::ServingStatus> pending_ ABSL_GUARDED_BY(mu_);
  std::optional<HealthCheckResponse::ServingStatus> last_sent_ ABSL_GUARDED_BY(mu_);
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

grpc::ServerUnaryReactor* HealthService::Check(grpc::CallbackServerContext* context,
                                               const HealthCheckRequest* request,
                                               HealthCheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::optional<bool> serving = status_->Get(request->service());
  if (!serving.has_value()) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service '" + request->service() + "'"));
    return reactor;
  }
  response->set_status(ToProto(serving));
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<HealthCheckResponse>* HealthService::Watch(
    grpc::CallbackServerContext* context, const HealthCheckRequest* request) {
  auto* reactor = new HealthWatchReactor(this, request->service());
  bool finish_now;
  {
    absl::MutexLock lock(&mu_);
    watches_.insert(reactor);
    finish_now = shut_down_;
  }
  if (finish_now) reactor->RequestFinish();
  return reactor;
}

void HealthService::Shutdown() {
  status_->SetAll(false);
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  for (HealthWatchReactor* reactor : watches_) reactor->RequestFinish();
}

void HealthService::Forget(HealthWatchReactor* reactor) {
  absl::MutexLock lock(&mu_);
  watches_.erase(reactor);
}

}  // namespace shadowplane::api
