// What the server's access check (api/access/access_interceptor.h) decided for a call, kept for
// the call's handler. gRPC C++ server interceptors cannot end a call with a status of their own
// (grpc/grpc#24017), so the interceptor records its verdict here before the handler runs, and the
// handlers' shared entry points (common/grpc_unary.h, and each streaming handler) finish a denied
// call with it instead of running the body.
//
// Calls are named by their server context. While the gate is armed (authentication on), a call
// with no recorded verdict is refused: a handler reached without the check fails closed.
#ifndef SHADOWPLANE_COMMON_CALL_GATE_H_
#define SHADOWPLANE_COMMON_CALL_GATE_H_

#include <functional>
#include <string>

#include "absl/status/status.h"

namespace shadowplane {

// Who the access check found the caller to be, for handlers whose answer depends on it.
struct GateCaller {
  std::string name;            // empty: no caller was authenticated (authentication is off)
  std::string team;            // empty: none
  std::string agent_location;  // set for an agent: the location it speaks for
  bool admin = false;          // acts on every team's reservations
};

class CallGate {
 public:
  // From now on every call needs a verdict (called once, before the server starts).
  static void Arm();
  static void Record(const void* call, absl::Status verdict);
  // The authenticated caller of a call (recorded with or after its verdict).
  static void RecordCaller(const void* call, GateCaller caller);
  // Work that must be done before the call's body runs (the audit trail's row of a change, written
  // ahead: api/access/audit_trail.h); the handlers' shared entry points run it first on their
  // worker and end the call with its error instead of running the body.
  static void RecordIntent(const void* call, std::function<absl::Status()> intent);
  // Runs (once) and forgets the call's recorded intent; OK when there is none.
  static absl::Status RunIntent(const void* call);
  // Whether the call has recorded work that RunIntent() has not run yet.
  static bool HasIntent(const void* call);
  static void Forget(const void* call);
  // The recorded verdict; OK for any call while the gate is not armed.
  static absl::Status Verdict(const void* call);
  // The recorded caller; an empty one when none was (authentication off, or not yet checked).
  static GateCaller CallerOf(const void* call);
};

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_CALL_GATE_H_
