// Fault injection for crash tests, compiled into the shipped binaries so that the code under test
// is the code that runs. A process started with SHADOWPLANE_FAULT_POINT=NAME dies at once (SIGKILL
// to itself, as a crash or an OOM kill would: no destructors, no flushing) the first time it
// reaches FaultPoint("NAME"); SHADOWPLANE_FAULT_POINT=NAME@N dies the N-th time. Unset (always in
// production), a fault point costs one relaxed atomic load.
//
// Points are named "<component>.<where>", e.g. "migration.entered.CUTOVER" (just after a state
// change committed) or "migration.cutover.after_freeze" (inside a side effect); each caller's
// header lists its points.
#ifndef SHADOWPLANE_COMMON_FAULT_POINT_H_
#define SHADOWPLANE_COMMON_FAULT_POINT_H_

#include "absl/strings/string_view.h"

namespace shadowplane {

inline constexpr char kFaultPointEnv[] = "SHADOWPLANE_FAULT_POINT";

// Dies here if the environment names this point (see above).
void FaultPoint(absl::string_view name);

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_FAULT_POINT_H_
