// The names of a sync's temporary files. A sync writes each rebuilt file (and each link) under a
// temporary name beside its final one and renames it into place; what a killed round leaves is
// found by its name and removed. Only this exact shape is temporary: ".shadowplane-sync-" and 16
// lowercase hex digits. A user's file named otherwise, ".shadowplane-sync-notes" included, is an
// ordinary file; the instance refuses to create a name of the reserved shape (400), so none of a
// user's files can be taken for a leftover and deleted.
#ifndef SHADOWPLANE_COMMON_SYNC_TEMPORARY_NAME_H_
#define SHADOWPLANE_COMMON_SYNC_TEMPORARY_NAME_H_

#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace shadowplane {

inline constexpr absl::string_view kSyncTemporaryPrefix = ".shadowplane-sync-";
inline constexpr size_t kSyncTemporaryDigits = 16;

// The temporary name made from `random`.
inline std::string SyncTemporaryName(uint64_t random) {
  return absl::StrFormat("%s%016x", kSyncTemporaryPrefix, random);
}

// Whether the last component `name` has the reserved shape.
inline bool IsSyncTemporaryName(absl::string_view name) {
  if (name.size() != kSyncTemporaryPrefix.size() + kSyncTemporaryDigits ||
      !absl::StartsWith(name, kSyncTemporaryPrefix)) {
    return false;
  }
  for (char c : name.substr(kSyncTemporaryPrefix.size())) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_SYNC_TEMPORARY_NAME_H_
