#include "api/planner_service.h"

#include "api/planner_mapping.h"
#include "common/grpc_unary.h"
#include "common/status_macros.h"

namespace shadowplane::api {

namespace pb = shadowplane::v1;

grpc::ServerUnaryReactor* PlannerService::Plan(grpc::CallbackServerContext* context,
                                               const pb::PlanRequest* request,
                                               pb::PlanResponse* response) {
  return FinishOnPool(context, workers_, [this, request, response]() -> absl::Status {
    ASSIGN_OR_RETURN(const planner::PlanQuery query, FromProto(*request));
    ASSIGN_OR_RETURN(const planner::PlanPage page, plans_->Plan(query));
    ToProto(page, response);
    return absl::OkStatus();
  });
}

}  // namespace shadowplane::api
