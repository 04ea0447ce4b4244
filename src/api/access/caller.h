// Who is calling the server, once authenticated (api/access/token_store.h): a name, a role, the
// team whose reservations it acts on, and for an agent the location it speaks for.
//
// Roles are ordered: a viewer reads; an operator also reserves, releases, moves planned, applies
// decisions, registers events and sends telemetry; an admin also changes locations and regions,
// makes emergency and forced migrations and sets the planner. An agent is no rung of that ladder:
// it may call only what agents call (access_rules.h).
#ifndef SHADOWPLANE_API_ACCESS_CALLER_H_
#define SHADOWPLANE_API_ACCESS_CALLER_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace shadowplane::api::access {

enum class Role { kViewer = 1, kOperator = 2, kAdmin = 3, kAgent = 10 };

// "viewer", "operator", "admin", "agent".
absl::string_view RoleName(Role role);
std::optional<Role> ParseRole(absl::string_view name);
// 1 to 63 of [a-z0-9-]: the form of a team's name and of an agent's location.
bool IsShortName(absl::string_view s);

struct Caller {
  std::string name;
  Role role = Role::kViewer;
  std::string team;      // empty: none
  std::string location;  // an agent's location
};

}  // namespace shadowplane::api::access

#endif  // SHADOWPLANE_API_ACCESS_CALLER_H_
