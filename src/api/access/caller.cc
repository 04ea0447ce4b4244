#include "api/access/caller.h"

#include "absl/strings/ascii.h"

namespace shadowplane::api::access {

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kOperator:
      return "operator";
    case Role::kAdmin:
      return "admin";
    case Role::kAgent:
      return "agent";
  }
  return "unknown";
}

bool IsShortName(absl::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-')) return false;
  }
  return true;
}

std::optional<Role> ParseRole(absl::string_view name) {
  for (Role r : {Role::kViewer, Role::kOperator, Role::kAdmin, Role::kAgent}) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

}  // namespace shadowplane::api::access
