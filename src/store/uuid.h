// UUID-shaped ids: the database's primary keys are uuid, and an id of another shape must read as
// "not found" rather than reach a uuid cast (which would fail the statement).
#ifndef SHADOWPLANE_STORE_UUID_H_
#define SHADOWPLANE_STORE_UUID_H_

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace shadowplane::store {

// 8-4-4-4-12 hexadecimal digits.
inline bool LooksLikeUuid(absl::string_view id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-' : !absl::ascii_isxdigit(id[i])) return false;
  }
  return true;
}

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_UUID_H_
