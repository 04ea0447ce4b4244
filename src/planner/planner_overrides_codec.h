// A reservation's planner overrides as stored (reservations.planner_overrides): a JSON object of
// the fields that are set, durations in seconds and blackout windows in whole Unix seconds, e.g.
//   {"mode":"auto","migration_threshold":0.9,"blackouts":[[1796000000,1796003600]]}
#ifndef SHADOWPLANE_PLANNER_PLANNER_OVERRIDES_CODEC_H_
#define SHADOWPLANE_PLANNER_PLANNER_OVERRIDES_CODEC_H_

#include <string>

#include "planner/planner_settings.h"

namespace shadowplane::planner {

// "" when nothing is set.
std::string OverridesToJson(const PlannerOverrides& overrides);
// False (and `overrides` empty) for text it cannot read; "" reads as no overrides.
bool OverridesFromJson(const std::string& json, PlannerOverrides* overrides);

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_PLANNER_PLANNER_OVERRIDES_CODEC_H_
