// shadowplane.v1.PlannerService messages <-> the planner's structs (planner/plan_service.h,
// planner/move_decision.h).
#ifndef SHADOWPLANE_API_PLANNER_MAPPING_H_
#define SHADOWPLANE_API_PLANNER_MAPPING_H_

#include "absl/status/statusor.h"
#include "planner/decision_service.h"
#include "planner/plan_service.h"
#include "shadowplane/v1/planner.pb.h"

namespace shadowplane::api {

// INVALID_ARGUMENT naming horizon when it is negative or beyond a Duration's range.
absl::StatusOr<planner::PlanQuery> FromProto(const shadowplane::v1::PlanRequest& request);
void ToProto(const planner::PlanPage& page, shadowplane::v1::PlanResponse* out);
void ToProto(const planner::PlanDecision& decision, shadowplane::v1::ResourcePlan* out);

// INVALID_ARGUMENT naming planner.<field> for an unknown mode or a duration or time out of range.
absl::StatusOr<planner::PlannerOverrides> FromProto(const shadowplane::v1::PlannerOverrides& in);
void ToProto(const planner::PlannerOverrides& overrides, shadowplane::v1::PlannerOverrides* out);

// The explanation as stored in planner_decisions.explanation: the ResourcePlan in proto JSON.
std::string ExplanationJson(const planner::PlanDecision& decision);

// INVALID_ARGUMENT naming from or to when out of a Timestamp's range.
absl::StatusOr<planner::DecisionQuery> FromProto(
    const shadowplane::v1::ListDecisionsRequest& request);
// With its explanation when `with_explanation` (a stored one that cannot be read is left out).
void ToProto(const store::DecisionRecord& decision, bool with_explanation,
             shadowplane::v1::Decision* out);
void ToProto(const std::vector<planner::CalibrationBucket>& buckets,
             shadowplane::v1::GetCalibrationResponse* out);
void ToProto(const planner::PlannerStatus& status, int max_planned_moves_per_hour,
             shadowplane::v1::PlannerStatus* out);

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_PLANNER_MAPPING_H_
