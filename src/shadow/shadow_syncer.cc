#include "shadow/shadow_syncer.h"

#include <grpcpp/client_context.h>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/agent_protocol.h"
#include "common/grpc_client_status.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "shadowplane/agent/v1/sync.grpc.pb.h"
#include "sync/sync_mode.h"

namespace shadowplane::shadow {

namespace pb = shadowplane::agent::v1;

const char* SyncTriggerName(SyncTrigger trigger) {
  switch (trigger) {
    case SyncTrigger::kPeriodic:
      return "periodic";
    case SyncTrigger::kManual:
      return "manual";
    case SyncTrigger::kFull:
      return "full";
    case SyncTrigger::kFinal:
      return "final";
  }
  return "manual";
}

namespace {

pb::SyncMode ModeFor(SyncTrigger trigger) {
  switch (trigger) {
    case SyncTrigger::kFull:
      return pb::CHECKSUM;
    case SyncTrigger::kFinal:
      return pb::FINAL;
    default:
      return pb::QUICK;
  }
}

// A low-cardinality reason for a failed round.
const char* FailureReason(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return "unavailable";
    case absl::StatusCode::kResourceExhausted:
      return "disk_full";
    case absl::StatusCode::kDataLoss:
      return "corrupt";
    case absl::StatusCode::kInvalidArgument:
      return "refused";
    case absl::StatusCode::kAborted:
      return "not_identical";
    case absl::StatusCode::kNotFound:
      return "not_found";
    default:
      return "other";
  }
}

}  // namespace

ShadowSyncer::ShadowSyncer(store::ReservationRepository* reservations,
                           store::InventoryStore* inventory, store::SyncRunRepository* runs,
                           const Clock* clock, ShadowSyncerOptions options,
                           prometheus::Registry* registry)
    : reservations_(reservations),
      inventory_(inventory),
      runs_(runs),
      clock_(clock),
      options_(options),
      channels_(options.security) {
  if (registry == nullptr) return;
  rounds_ = &prometheus::BuildCounter()
                 .Name("shadowplane_sync_rounds_total")
                 .Help("Shadow sync rounds, by trigger (periodic, manual, full, final) and result.")
                 .Register(*registry);
  bytes_ = &prometheus::BuildCounter()
                .Name("shadowplane_sync_bytes_total")
                .Help(
                    "Bytes of shadow sync rounds by kind: literal (new data sent), matched "
                    "(rebuilt from the shadow's own copy), signature (sent by the shadow).")
                .Register(*registry);
  wire_bytes_ = &prometheus::BuildCounter()
                     .Name("shadowplane_sync_wire_bytes_total")
                     .Help("Bytes of sync protocol messages between agents, both directions.")
                     .Register(*registry)
                     .Add({});
  failures_ = &prometheus::BuildCounter()
                   .Name("shadowplane_sync_failures_total")
                   .Help(
                       "Failed shadow sync rounds by reason (unavailable, disk_full, corrupt, "
                       "refused, not_identical, not_found, other).")
                   .Register(*registry);
  for (const char* reason :
       {"unavailable", "disk_full", "corrupt", "refused", "not_identical", "not_found", "other"}) {
    failures_->Add({{"reason", reason}});  // at 0 from the start, for rates and dashboards
  }
  duration_ = &prometheus::BuildHistogram()
                   .Name("shadowplane_sync_duration_seconds")
                   .Help("Duration of shadow sync rounds, by mode (quick, checksum, final).")
                   .Register(*registry);
}

bool ShadowSyncer::Running(const std::string& reservation_id) {
  absl::MutexLock lock(&mu_);
  return running_.count(reservation_id) > 0;
}

void ShadowSyncer::CountFailure(const absl::Status& status) {
  if (failures_ != nullptr) failures_->Add({{"reason", FailureReason(status)}}).Increment();
}

absl::StatusOr<SyncOutcome> ShadowSyncer::Sync(const std::string& reservation_id,
                                               SyncTrigger trigger,
                                               const std::vector<std::string>& final_paths) {
  ASSIGN_OR_RETURN(store::ReservationRecord r, reservations_->Get(reservation_id));
  if (r.state != "active") {
    return absl::FailedPreconditionError(
        absl::StrCat("reservation ", reservation_id, " is ", r.state, ", not active"));
  }
  if (r.primary.id.empty() || r.shadow.id.empty() || r.primary.state != "running" ||
      r.shadow.state != "running") {
    return absl::FailedPreconditionError(
        absl::StrCat("reservation ", reservation_id, " has no running primary and shadow to sync"));
  }
  return ClaimAndRun(r, r.shadow, trigger, final_paths);
}

absl::StatusOr<SyncOutcome> ShadowSyncer::SyncInto(const std::string& reservation_id,
                                                   const std::string& target_instance_id,
                                                   SyncTrigger trigger,
                                                   const std::vector<std::string>& final_paths) {
  ASSIGN_OR_RETURN(store::ReservationRecord r, reservations_->Get(reservation_id));
  if (r.state != "active" || r.primary.id.empty() || r.primary.state != "running") {
    return absl::FailedPreconditionError(
        absl::StrCat("reservation ", reservation_id, " has no running primary to sync from"));
  }
  ASSIGN_OR_RETURN(std::vector<store::InstanceRecord> instances,
                   reservations_->Instances(r.resource_id));
  for (const store::InstanceRecord& i : instances) {
    if (i.id != target_instance_id || i.id == r.primary.id) continue;
    if (i.state != "running") break;
    return ClaimAndRun(r, i, trigger, final_paths);
  }
  return absl::FailedPreconditionError(absl::StrCat("instance ", target_instance_id,
                                                    " is not a running copy of reservation ",
                                                    reservation_id, " to sync into"));
}

absl::StatusOr<SyncOutcome> ShadowSyncer::ClaimAndRun(const store::ReservationRecord& r,
                                                      const store::InstanceRecord& target,
                                                      SyncTrigger trigger,
                                                      const std::vector<std::string>& final_paths) {
  {
    absl::MutexLock lock(&mu_);
    if (!running_.insert(r.id).second) {
      return absl::AbortedError(
          absl::StrCat("a sync round of reservation ", r.id, " is already running"));
    }
  }
  absl::Cleanup done = [&] {
    absl::MutexLock lock(&mu_);
    running_.erase(r.id);
  };
  return RunRound(r, target, trigger, final_paths);
}

absl::StatusOr<SyncOutcome> ShadowSyncer::RunRound(const store::ReservationRecord& r,
                                                   const store::InstanceRecord& into,
                                                   SyncTrigger trigger,
                                                   const std::vector<std::string>& final_paths) {
  absl::StatusOr<std::string> source = inventory_->AgentEndpoint(r.primary.location);
  absl::StatusOr<std::string> target = inventory_->AgentEndpoint(into.location);
  if (!source.ok() || !target.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no agent endpoint for ", !source.ok() ? r.primary.location : into.location));
  }
  pb::SyncFromRequest request;
  request.set_source_endpoint(*source);
  request.set_source_location(r.primary.location);
  request.set_source_instance_id(r.primary.id);
  request.set_target_instance_id(into.id);
  request.set_mode(ModeFor(trigger));
  for (const std::string& p : final_paths) request.add_paths(p);

  SyncOutcome outcome;
  store::SyncRunRecord& run = outcome.run;
  run.reservation_id = r.id;
  run.source_instance = r.primary.id;
  run.target_instance = into.id;
  run.trigger = SyncTriggerName(trigger);
  run.mode = sync::SyncModeName(request.mode());
  run.started_at = clock_->Now();
  const absl::Time real_start = absl::Now();

  grpc::ClientContext context;
  context.AddMetadata(kAgentProtocolMetadataKey, absl::StrCat(kAgentProtocolVersion));
  context.set_deadline(absl::ToChronoTime(real_start + options_.round_timeout));
  pb::SyncFromResponse response;
  auto stub = pb::SyncService::NewStub(channels_.Get(*target, AgentIdentity(into.location)));
  grpc::Status call = stub->SyncFrom(&context, request, &response);

  run.finished_at = clock_->Now();
  run.duration_seconds = absl::ToDoubleSeconds(absl::Now() - real_start);
  absl::Status status = FromGrpcStatus(call, "the shadow's agent");
  if (status.ok()) {
    const pb::SyncStats& s = response.stats();
    run.files_total = s.files_total();
    run.files_transferred = s.files_transferred();
    run.files_deleted = s.files_deleted();
    run.bytes_total = s.bytes_total();
    run.bytes_literal = s.bytes_literal();
    run.bytes_matched = s.bytes_matched();
    run.bytes_signature = s.bytes_signature();
    run.bytes_wire = s.bytes_wire();
    run.dirty_files = response.dirty_files();
    run.dirty_bytes = response.dirty_bytes();
    run.source_tree_hash = response.source_tree_hash();
    run.target_tree_hash = response.target_tree_hash();
    for (const pb::DirtyFile& d : response.dirty()) outcome.dirty.push_back({d.path(), d.size()});
    if (request.mode() != pb::QUICK) {
      run.identical = !run.source_tree_hash.empty() &&
                      run.source_tree_hash == run.target_tree_hash && response.dirty_files() == 0;
      if (request.mode() == pb::FINAL && !*run.identical) {
        status = absl::AbortedError(
            absl::StrCat("the final round did not leave the shadow identical (source tree ",
                         run.source_tree_hash.substr(0, 16), ", shadow tree ",
                         run.target_tree_hash.substr(0, 16), ", ", response.dirty_files(),
                         " files changed during the round)"));
      }
    }
  }
  run.result = status.ok() ? "ok" : "failed";
  run.error = status.ok() ? "" : status.ToString();
  // A round that failed is still a fact worth keeping; recording it must not hide the failure.
  absl::Status recorded = runs_->Record(run);

  if (rounds_ != nullptr) {
    rounds_->Add({{"trigger", run.trigger}, {"result", run.result}}).Increment();
    duration_
        ->Add({{"mode", run.mode}},
              prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
                                                      60, 300})
        .Observe(run.duration_seconds);
    if (status.ok()) {
      bytes_->Add({{"kind", "literal"}}).Increment(run.bytes_literal);
      bytes_->Add({{"kind", "matched"}}).Increment(run.bytes_matched);
      bytes_->Add({{"kind", "signature"}}).Increment(run.bytes_signature);
      wire_bytes_->Increment(run.bytes_wire);
    }
  }
  if (!status.ok()) CountFailure(status);
  LogLine event(status.ok() ? LogLevel::kInfo : LogLevel::kWarning, "shadow sync round");
  event.Field("reservation", r.id)
      .Field("trigger", run.trigger)
      .Field("mode", run.mode)
      .Field("result", run.result)
      .Field("files_transferred", run.files_transferred)
      .Field("bytes_wire", run.bytes_wire)
      .Field("dirty_files", run.dirty_files)
      .Field("duration_seconds", run.duration_seconds);
  if (!status.ok()) event.Field("error", status);
  RETURN_IF_ERROR(status);
  RETURN_IF_ERROR(recorded);
  return outcome;
}

}  // namespace shadowplane::shadow
