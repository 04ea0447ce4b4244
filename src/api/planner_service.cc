#include "api/planner_service.h"

#include "api/planner_mapping.h"
#include "common/grpc_unary.h"
#include "common/proto_time.h"
#include "common/status_macros.h"

namespace shadowplane::api {

namespace pb = shadowplane::v1;

grpc::ServerUnaryReactor* PlannerService::Plan(grpc::CallbackServerContext* context,
                                               const pb::PlanRequest* request,
                                               pb::PlanResponse* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    ASSIGN_OR_RETURN(const planner::PlanQuery query, FromProto(*request));
    ASSIGN_OR_RETURN(const planner::PlanPage page, plans_->Plan(query));
    ToProto(page, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PlannerService::ListDecisions(grpc::CallbackServerContext* context,
                                                        const pb::ListDecisionsRequest* request,
                                                        pb::ListDecisionsResponse* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    ASSIGN_OR_RETURN(const planner::DecisionQuery query, FromProto(*request));
    ASSIGN_OR_RETURN(const planner::DecisionPage page, decisions_->List(query));
    for (const store::DecisionRecord& d : page.decisions) {
      ToProto(d, /*with_explanation=*/false, response->add_decisions());
    }
    response->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PlannerService::GetDecision(grpc::CallbackServerContext* context,
                                                      const pb::GetDecisionRequest* request,
                                                      pb::Decision* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    ASSIGN_OR_RETURN(const store::DecisionRecord d, decisions_->Get(request->decision_id()));
    ToProto(d, /*with_explanation=*/true, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PlannerService::ApplyDecision(grpc::CallbackServerContext* context,
                                                        const pb::ApplyDecisionRequest* request,
                                                        pb::ApplyDecisionResponse* response) {
  const GateCaller caller = CallGate::CallerOf(context);
  return FinishOnPool(
      context, request, workers_, [this, caller, request, response]() -> absl::Status {
        RETURN_IF_ERROR(ownership_->CheckDecision(caller, request->decision_id()));
        ASSIGN_OR_RETURN(const planner::AppliedDecision applied,
                         decisions_->Apply(request->decision_id()));
        ToProto(applied.decision, /*with_explanation=*/false, response->mutable_decision());
        response->set_migration_id(applied.migration_id);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* PlannerService::Pause(grpc::CallbackServerContext* context,
                                                const pb::PauseRequest* request,
                                                pb::PlannerStatus* response) {
  // The caller's address is what we know of it (no authentication yet); a name it gave would be
  // unverified.
  const std::string actor = context->peer();
  return FinishOnPool(context, request, workers_,
                      [this, actor, request, response]() -> absl::Status {
                        ASSIGN_OR_RETURN(const planner::PlannerStatus status,
                                         decisions_->Pause(actor, request->reason()));
                        ToProto(status, plans_->options().max_planned_moves_per_hour, response);
                        return absl::OkStatus();
                      });
}

grpc::ServerUnaryReactor* PlannerService::Resume(grpc::CallbackServerContext* context,
                                                 const pb::ResumeRequest* request,
                                                 pb::PlannerStatus* response) {
  const std::string actor = context->peer();
  return FinishOnPool(context, request, workers_,
                      [this, actor, request, response]() -> absl::Status {
                        ASSIGN_OR_RETURN(const planner::PlannerStatus status,
                                         decisions_->Resume(actor, request->reason()));
                        ToProto(status, plans_->options().max_planned_moves_per_hour, response);
                        return absl::OkStatus();
                      });
}

grpc::ServerUnaryReactor* PlannerService::GetPlannerStatus(
    grpc::CallbackServerContext* context, const pb::GetPlannerStatusRequest* request,
    pb::PlannerStatus* response) {
  return FinishOnPool(context, request, workers_, [this, response]() -> absl::Status {
    ASSIGN_OR_RETURN(const planner::PlannerStatus status, decisions_->Status());
    ToProto(status, plans_->options().max_planned_moves_per_hour, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PlannerService::GetCalibration(grpc::CallbackServerContext* context,
                                                         const pb::GetCalibrationRequest* request,
                                                         pb::GetCalibrationResponse* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    const absl::Time now = clock_->Now();
    absl::Time since = now - absl::Hours(24 * 30);
    if (request->has_since()) {
      ASSIGN_OR_RETURN(since, CheckedProtoTime(request->since(), "since"));
      if (since > now) return absl::InvalidArgumentError("since is in the future");
    }
    ASSIGN_OR_RETURN(const std::vector<planner::CalibrationBucket> buckets,
                     decisions_->Calibration(since));
    ToProto(buckets, response);
    return absl::OkStatus();
  });
}

}  // namespace shadowplane::api
