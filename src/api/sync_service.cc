#include "api/sync_service.h"

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_unary.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "store/uuid.h"

namespace shadowplane::api {

namespace pb = shadowplane::v1;

namespace {

void ToProto(const store::SyncRunRecord& r, pb::SyncRun* out) {
  out->set_id(r.id);
  out->set_reservation_id(r.reservation_id);
  out->set_source_instance_id(r.source_instance);
  out->set_target_instance_id(r.target_instance);
  out->set_trigger(r.trigger);
  out->set_mode(r.mode);
  *out->mutable_started_at() = ToProtoTime(r.started_at);
  *out->mutable_finished_at() = ToProtoTime(r.finished_at);
  out->set_duration_seconds(r.duration_seconds);
  out->set_result(r.result);
  out->set_error(r.error);
  out->set_files_total(r.files_total);
  out->set_files_transferred(r.files_transferred);
  out->set_files_deleted(r.files_deleted);
  out->set_bytes_total(r.bytes_total);
  out->set_bytes_literal(r.bytes_literal);
  out->set_bytes_matched(r.bytes_matched);
  out->set_bytes_signature(r.bytes_signature);
  out->set_bytes_wire(r.bytes_wire);
  out->set_dirty_files(r.dirty_files);
  out->set_dirty_bytes(r.dirty_bytes);
  out->set_source_tree_hash(r.source_tree_hash);
  out->set_target_tree_hash(r.target_tree_hash);
  if (r.identical.has_value()) out->set_identical(*r.identical);
}

absl::Status CheckReservationId(const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("reservation_id is required");
  if (!store::LooksLikeUuid(id)) {
    return absl::InvalidArgumentError(absl::StrCat("reservation_id \"", id, "\" is not a UUID"));
  }
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* SyncService::SyncNow(grpc::CallbackServerContext* context,
                                               const pb::SyncNowRequest* request,
                                               pb::SyncRun* response) {
  const GateCaller caller = CallGate::CallerOf(context);
  return FinishOnPool(
      context, request, workers_, [this, caller, request, response]() -> absl::Status {
        RETURN_IF_ERROR(CheckReservationId(request->reservation_id()));
        RETURN_IF_ERROR(ownership_->CheckReservation(caller, request->reservation_id()));
        absl::Cleanup forget = [this, request] {
          if (view_ != nullptr) view_->Invalidate(request->reservation_id());
        };
        ASSIGN_OR_RETURN(shadow::SyncOutcome outcome,
                         syncer_->Sync(request->reservation_id(),
                                       request->full() ? shadow::SyncTrigger::kFull
                                                       : shadow::SyncTrigger::kManual));
        ToProto(outcome.run, response);
        for (const shadow::DirtyFile& d : outcome.dirty) {
          pb::DirtyFile* out = response->add_dirty();
          out->set_path(d.path);
          out->set_size(d.size);
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SyncService::ListSyncRuns(grpc::CallbackServerContext* context,
                                                    const pb::ListSyncRunsRequest* request,
                                                    pb::ListSyncRunsResponse* response) {
  const GateCaller caller = CallGate::CallerOf(context);
  return FinishOnPool(
      context, request, workers_, [this, caller, request, response]() -> absl::Status {
        RETURN_IF_ERROR(CheckReservationId(request->reservation_id()));
        RETURN_IF_ERROR(ownership_->CheckReservation(caller, request->reservation_id()));
        int limit = request->limit() == 0 ? 20 : request->limit();
        if (limit < 0 || limit > 1000) {
          return absl::InvalidArgumentError(
              absl::StrCat("limit must be 1 to 1000, got ", request->limit()));
        }
        ASSIGN_OR_RETURN(auto runs, runs_->List(request->reservation_id(), limit));
        for (const auto& r : runs) ToProto(r, response->add_runs());
        return absl::OkStatus();
      });
}

}  // namespace shadowplane::api
