// shadowplane.v1.PlannerService: thin handlers over planner::PlanService (the dry run) and
// planner::DecisionService (stored decisions, ApplyDecision, Pause and Resume).
#ifndef SHADOWPLANE_API_PLANNER_SERVICE_H_
#define SHADOWPLANE_API_PLANNER_SERVICE_H_

#include "api/access/ownership.h"
#include "common/clock.h"
#include "common/worker_pool.h"
#include "planner/decision_service.h"
#include "planner/plan_service.h"
#include "shadowplane/v1/planner.grpc.pb.h"

namespace shadowplane::api {

class PlannerService final : public shadowplane::v1::PlannerService::CallbackService {
 public:
  // Every call runs on `workers` (they read the database). ApplyDecision is checked against the
  // caller's team (`ownership`).
  PlannerService(planner::PlanService* plans, planner::DecisionService* decisions,
                 const Clock* clock, WorkerPool* workers, access::Ownership* ownership)
      : plans_(plans),
        decisions_(decisions),
        clock_(clock),
        workers_(workers),
        ownership_(ownership) {}

  grpc::ServerUnaryReactor* Plan(grpc::CallbackServerContext* context,
                                 const shadowplane::v1::PlanRequest* request,
                                 shadowplane::v1::PlanResponse* response) override;
  grpc::ServerUnaryReactor* ListDecisions(
      grpc::CallbackServerContext* context, const shadowplane::v1::ListDecisionsRequest* request,
      shadowplane::v1::ListDecisionsResponse* response) override;
  grpc::ServerUnaryReactor* GetDecision(grpc::CallbackServerContext* context,
                                        const shadowplane::v1::GetDecisionRequest* request,
                                        shadowplane::v1::Decision* response) override;
  grpc::ServerUnaryReactor* ApplyDecision(
      grpc::CallbackServerContext* context, const shadowplane::v1::ApplyDecisionRequest* request,
      shadowplane::v1::ApplyDecisionResponse* response) override;
  grpc::ServerUnaryReactor* Pause(grpc::CallbackServerContext* context,
                                  const shadowplane::v1::PauseRequest* request,
                                  shadowplane::v1::PlannerStatus* response) override;
  grpc::ServerUnaryReactor* Resume(grpc::CallbackServerContext* context,
                                   const shadowplane::v1::ResumeRequest* request,
                                   shadowplane::v1::PlannerStatus* response) override;
  grpc::ServerUnaryReactor* GetPlannerStatus(
      grpc::CallbackServerContext* context, const shadowplane::v1::GetPlannerStatusRequest* request,
      shadowplane::v1::PlannerStatus* response) override;
  grpc::ServerUnaryReactor* GetCalibration(
      grpc::CallbackServerContext* context, const shadowplane::v1::GetCalibrationRequest* request,
      shadowplane::v1::GetCalibrationResponse* response) override;

 private:
  planner::PlanService* const plans_;
  planner::DecisionService* const decisions_;
  const Clock* const clock_;
  WorkerPool* const workers_;
  access::Ownership* const ownership_;
};

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_PLANNER_SERVICE_H_
