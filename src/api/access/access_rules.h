// Who may call what: one table of rules, full method name ("/package.Service/Method") -> the
// least role that may call it, whether agents may, and for some methods a stricter role that a
// request's fields call for (a Migrate of kind emergency or with force, the planner settings of
// Reserve and UpdateReservation: admin). Health checks and reflection are open to anyone. A
// method without a rule is refused to everyone (tests/api/access_rules_test.cc fails when a
// service gains a method without one).
#ifndef SHADOWPLANE_API_ACCESS_ACCESS_RULES_H_
#define SHADOWPLANE_API_ACCESS_ACCESS_RULES_H_

#include <google/protobuf/message.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "api/access/caller.h"

namespace shadowplane::api::access {

struct AccessRule {
  // Unset: open to every caller, authenticated or not.
  std::optional<Role> min_role;
  // Agents may call it (for their own location's instances: the handler checks that).
  bool agents = false;
  // The least role for this request when it asks for more than the method's (e.g. emergency).
  std::function<std::optional<Role>(const google::protobuf::Message&)> raise;
  // For agents: the location a request speaks for, which must be the agent's own.
  std::function<std::string(const google::protobuf::Message&)> agent_location;
  // Written to the audit trail (api/access/audit_trail.h): every method that changes something,
  // but for the agents' lease renewals and telemetry batches (a telemetry stream is, once).
  bool audited = false;
};

// The method's rule; nullptr when it has none.
const AccessRule* RuleFor(absl::string_view method);
// Every method with a rule, sorted.
std::vector<std::string> RuledMethods();

// Whether `caller` (nullopt: not authenticated) may make this call: OK; UNAUTHENTICATED when a
// caller is needed and there is none; PERMISSION_DENIED naming the method and the role it needs,
// or, for an agent, the location it asked for that is not its own.
// `request` may be null while the request is not yet read (then only the method's rule applies).
absl::Status Decide(absl::string_view method, const std::optional<Caller>& caller,
                    const google::protobuf::Message* request);

}  // namespace shadowplane::api::access

#endif  // SHADOWPLANE_API_ACCESS_ACCESS_RULES_H_
