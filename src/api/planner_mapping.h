// shadowplane.v1.PlannerService messages <-> the planner's structs (planner/plan_service.h,
// planner/move_decision.h).
#ifndef SHADOWPLANE_API_PLANNER_MAPPING_H_
#define SHADOWPLANE_API_PLANNER_MAPPING_H_

#include "absl/status/statusor.h"
#include "planner/plan_service.h"
#include "shadowplane/v1/planner.pb.h"

namespace shadowplane::api {

// INVALID_ARGUMENT naming horizon when it is negative or beyond a Duration's range.
absl::StatusOr<planner::PlanQuery> FromProto(const shadowplane::v1::PlanRequest& request);
void ToProto(const planner::PlanPage& page, shadowplane::v1::PlanResponse* out);
void ToProto(const planner::PlanDecision& decision, shadowplane::v1::ResourcePlan* out);

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_PLANNER_MAPPING_H_
