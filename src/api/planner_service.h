// shadowplane.v1.PlannerService: thin handlers over planner::PlanService.
#ifndef SHADOWPLANE_API_PLANNER_SERVICE_H_
#define SHADOWPLANE_API_PLANNER_SERVICE_H_

#include "common/worker_pool.h"
#include "planner/plan_service.h"
#include "shadowplane/v1/planner.grpc.pb.h"

namespace shadowplane::api {

class PlannerService final : public shadowplane::v1::PlannerService::CallbackService {
 public:
  // Plan runs on `workers` (it reads the database).
  PlannerService(planner::PlanService* plans, WorkerPool* workers)
      : plans_(plans), workers_(workers) {}

  grpc::ServerUnaryReactor* Plan(grpc::CallbackServerContext* context,
                                 const shadowplane::v1::PlanRequest* request,
                                 shadowplane::v1::PlanResponse* response) override;

 private:
  planner::PlanService* const plans_;
  WorkerPool* const workers_;
};

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_PLANNER_SERVICE_H_
