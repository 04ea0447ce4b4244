#include "api/migration_service.h"

#include <thread>

#include "absl/synchronization/mutex.h"
#include "common/grpc_unary.h"
#include "common/proto_time.h"
#include "store/migration_state.h"

namespace shadowplane::api {

namespace pb = shadowplane::v1;

namespace {

void ToProto(const store::MigrationRecord& m, const std::string& reservation_id,
             pb::Migration* out) {
  out->set_id(m.id);
  out->set_request_id(m.request_id);
  out->set_reservation_id(reservation_id);
  out->set_resource_id(m.resource_id);
  out->set_kind(m.kind);
  out->set_urgent(m.urgent);
  out->set_state(store::StateName(m.state));
  out->set_reason(m.reason);
  out->set_source_instance_id(m.source_instance_id);
  out->set_target_instance_id(m.target_instance_id);
  out->set_target_location(m.target_location);
  out->set_target_capacity_type(m.target_capacity_type);
  out->set_error(m.error);
  *out->mutable_created_at() = ToProtoTime(m.created_at);
  *out->mutable_updated_at() = ToProtoTime(m.updated_at);
  out->set_lease_owner(m.lease_owner);
  if (m.lease_expires_at) *out->mutable_lease_expires_at() = ToProtoTime(*m.lease_expires_at);
  out->set_cancel_requested(m.cancel_requested);
  out->set_decision_id(m.decision_id);
  if (m.predicted_saving) out->set_predicted_saving(*m.predicted_saving);
  if (m.predicted_confidence) out->set_predicted_confidence(*m.predicted_confidence);
  if (m.cutover_after) *out->mutable_cutover_after() = ToProtoTime(*m.cutover_after);
  const store::MigrationProgress& p = m.progress;
  pb::MigrationProgress* q = out->mutable_progress();
  q->set_attempts(p.attempts);
  q->set_last_error(p.last_error);
  if (p.next_attempt_at) *q->mutable_next_attempt_at() = ToProtoTime(*p.next_attempt_at);
  q->set_precopy_rounds(p.precopy_rounds);
  if (p.bytes_left) q->set_bytes_left(*p.bytes_left);
  if (p.freeze_started_at) *q->mutable_freeze_started_at() = ToProtoTime(*p.freeze_started_at);
  if (p.freeze_seconds) q->set_freeze_seconds(*p.freeze_seconds);
  if (p.final_dirty_bytes) q->set_final_bytes(*p.final_dirty_bytes);
  if (p.final_dirty_files) q->set_final_files(*p.final_dirty_files);
  if (p.switched_at) *q->mutable_switched_at() = ToProtoTime(*p.switched_at);
  if (p.switch_requested_at) {
    *q->mutable_switch_requested_at() = ToProtoTime(*p.switch_requested_at);
  }
  if (p.loss_window_seconds) q->set_loss_window_seconds(*p.loss_window_seconds);
  if (p.observe_until) *q->mutable_observe_until() = ToProtoTime(*p.observe_until);
  if (p.forecast_wape) q->set_forecast_wape(*p.forecast_wape);
  if (p.paid_off) q->set_paid_off(*p.paid_off);
  if (p.realized_saving) q->set_realized_saving(*p.realized_saving);
  if (p.realized_shift_at) *q->mutable_realized_shift_at() = ToProtoTime(*p.realized_shift_at);
  if (p.freeze_started_wall) {
    *q->mutable_freeze_started_wall() = ToProtoTime(*p.freeze_started_wall);
  }
  q->set_observation_note(p.observation_note);
}

void ToProto(const migration::MigrationDetails& d, pb::Migration* out) {
  ToProto(d.migration, d.reservation_id, out);
  for (const auto& e : d.events) {
    pb::MigrationEvent* event = out->add_events();
    *event->mutable_at() = ToProtoTime(e.at);
    event->set_from_state(e.from_state);
    event->set_to_state(e.to_state);
    event->set_detail_json(e.detail_json);
    event->set_driver(e.driver);
  }
  for (const auto& r : d.rounds) {
    pb::MigrationRound* round = out->add_rounds();
    round->set_round(r.round);
    round->set_kind(r.kind);
    *round->mutable_at() = ToProtoTime(r.at);
    round->set_files_transferred(r.files_transferred);
    round->set_bytes_literal(r.bytes_literal);
    round->set_bytes_wire(r.bytes_wire);
    round->set_dirty_files(r.dirty_files);
    round->set_dirty_bytes(r.dirty_bytes);
    round->set_duration_seconds(r.duration_seconds);
  }
  if (d.disruptions.has_value()) {
    const store::DisruptionRecord& r = *d.disruptions;
    pb::MigrationDisruptions* x = out->mutable_disruptions();
    *x->mutable_measured_at() = ToProtoTime(r.measured_at);
    x->set_affine_clients(r.affine_clients);
    x->set_disrupted_affine_clients(r.disrupted_affine_clients);
    x->set_disrupted_other_clients(r.disrupted_other_clients);
    x->set_held_requests(r.held_requests);
    x->set_failed_requests(r.failed_requests);
    x->set_forwarded_requests(r.forwarded_requests);
    x->set_closed_connections(r.closed_connections);
    x->set_stale_reads(r.stale_reads);
    x->set_truncated(r.truncated);
    x->set_error(r.error);
  }
}

}  // namespace

// One WatchMigration call: a thread polls the row and writes each change, one write at a time.
// The thread's last act is Finish(); OnDone() (after it) deletes the reactor.
class MigrationService::Watch final : public grpc::ServerWriteReactor<pb::Migration> {
 public:
  Watch(MigrationService* service, std::string id) : service_(service), id_(std::move(id)) {
    std::thread([this] { Loop(); }).detach();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    write_failed_ = !ok;
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }
  void OnDone() override {
    service_->watches_--;
    delete this;
  }

 private:
  void Loop() {
    std::string last;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (cancelled_) return Finish(grpc::Status::CANCELLED);
      }
      auto details = service_->manager_->Get(id_);
      if (!details.ok()) return Finish(ToGrpcStatus(details.status()));
      pb::Migration now;
      ToProto(*details, &now);
      std::string fingerprint;
      now.SerializeToString(&fingerprint);
      if (fingerprint != last) {
        last = fingerprint;
        message_ = std::move(now);
        {
          absl::MutexLock lock(&mu_);
          writing_ = true;
        }
        StartWrite(&message_);
        bool failed;
        {
          // OnWriteDone comes for every write started, with ok false once the call is cancelled.
          absl::MutexLock lock(&mu_);
          auto written = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !writing_; };
          mu_.Await(absl::Condition(&written));
          failed = write_failed_ || cancelled_;
        }
        if (failed) return Finish(grpc::Status::CANCELLED);
      }
      if (store::IsFinal(details->migration.state)) return Finish(grpc::Status::OK);
      absl::MutexLock lock(&mu_);
      auto cancelled = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return cancelled_; };
      mu_.AwaitWithTimeout(absl::Condition(&cancelled), service_->watch_poll_);
    }
  }

  MigrationService* const service_;
  const std::string id_;
  pb::Migration message_;
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool write_failed_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

MigrationService::~MigrationService() {
  // Calls are cancelled when the server shuts down; their watches end soon after.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (watches_.load() > 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
}

grpc::ServerUnaryReactor* MigrationService::Migrate(grpc::CallbackServerContext* context,
                                                    const pb::MigrateRequest* request,
                                                    pb::Migration* response) {
  const GateCaller caller = CallGate::CallerOf(context);
  return FinishOnPool(
      context, request, workers_, [this, caller, request, response]() -> absl::Status {
        if (absl::Status owned = ownership_->CheckReservation(caller, request->reservation_id());
            !owned.ok()) {
          return owned;
        }
        migration::MigrateSpec spec;
        spec.request_id = request->request_id();
        spec.reservation_id = request->reservation_id();
        spec.target_location = request->target_location();
        spec.capacity_type = request->capacity_type();
        spec.reason = request->reason();
        spec.kind = request->kind();
        spec.force = request->force();
        absl::StatusOr<store::MigrationRecord> m = manager_->Migrate(spec);
        if (!m.ok()) return m.status();
        ToProto(*m, manager_->ReservationOf(m->resource_id), response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MigrationService::GetMigration(grpc::CallbackServerContext* context,
                                                         const pb::GetMigrationRequest* request,
                                                         pb::Migration* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    absl::StatusOr<migration::MigrationDetails> d = manager_->Get(request->id());
    if (!d.ok()) return d.status();
    ToProto(*d, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MigrationService::ListMigrations(grpc::CallbackServerContext* context,
                                                           const pb::ListMigrationsRequest* request,
                                                           pb::ListMigrationsResponse* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    store::MigrationFilter filter;
    filter.resource_id = request->resource_id();
    filter.state = request->state();
    if (request->has_created_after())
      filter.created_after = FromProtoTime(request->created_after());
    absl::Status size = PageSize(request->page_size(), &filter.page_size);
    if (!size.ok()) return size;
    filter.after = request->page_token();
    absl::StatusOr<std::vector<store::MigrationRecord>> page = manager_->List(filter);
    if (!page.ok()) return page.status();
    for (const store::MigrationRecord& m : *page) {
      ToProto(m, manager_->ReservationOf(m.resource_id), response->add_migrations());
    }
    if (static_cast<int>(page->size()) == filter.page_size) {
      response->set_next_page_token(page->back().id);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MigrationService::CancelMigration(
    grpc::CallbackServerContext* context, const pb::CancelMigrationRequest* request,
    pb::Migration* response) {
  const GateCaller caller = CallGate::CallerOf(context);
  return FinishOnPool(
      context, request, workers_, [this, caller, request, response]() -> absl::Status {
        if (absl::Status owned = ownership_->CheckMigration(caller, request->id()); !owned.ok()) {
          return owned;
        }
        absl::StatusOr<store::MigrationRecord> m = manager_->Cancel(request->id());
        if (!m.ok()) return m.status();
        ToProto(*m, manager_->ReservationOf(m->resource_id), response);
        return absl::OkStatus();
      });
}

grpc::ServerWriteReactor<pb::Migration>* MigrationService::WatchMigration(
    grpc::CallbackServerContext* context, const pb::WatchMigrationRequest* request) {
  if (absl::Status verdict = AccessVerdict(context); !verdict.ok()) {
    return new RefusedWriter<pb::Migration>(verdict);
  }
  if (request->id().empty()) {
    return new RefusedWriter<pb::Migration>(absl::InvalidArgumentError("id is required"));
  }
  if (watches_.load() >= max_watches_) {
    return new RefusedWriter<pb::Migration>(
        absl::ResourceExhaustedError("too many migrations are being watched; retry later"));
  }
  watches_++;
  return new Watch(this, request->id());
}

}  // namespace shadowplane::api
