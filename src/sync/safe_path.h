// Paths inside a synced tree, and opening them without ever following a link.
//
// Every path that crosses the wire is relative and '/'-separated. A target opens the parent
// directory of each path one component at a time with O_NOFOLLOW, and then works with *at()
// calls on that directory, so no write can escape the tree through "..", an absolute path or a
// symbolic link planted anywhere along the way.
#ifndef SHADOWPLANE_SYNC_SAFE_PATH_H_
#define SHADOWPLANE_SYNC_SAFE_PATH_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"

namespace shadowplane::sync {

// INVALID_ARGUMENT naming the path unless it is non-empty, relative, free of "", "." and ".."
// components, NUL bytes and temporary names (common/sync_temporary_name.h), with components of
// at most 255 bytes.
absl::Status ValidateRelativePath(absl::string_view path);

// ("a/b", "c") for "a/b/c"; ("", "c") for "c".
std::pair<absl::string_view, absl::string_view> SplitParent(absl::string_view path);

// Opens the directory `relative` ("" for the root itself) beneath `root_fd`, one component at a
// time, refusing (FAILED_PRECONDITION) any component that is a symbolic link or not a directory.
// NOT_FOUND when a component does not exist.
absl::StatusOr<UniqueFd> OpenDirectoryBeneath(int root_fd, absl::string_view relative);

// Opens the directory `path` (absolute or relative to the working directory) itself.
absl::StatusOr<UniqueFd> OpenDirectory(const std::string& path);

}  // namespace shadowplane::sync

#endif  // SHADOWPLANE_SYNC_SAFE_PATH_H_
