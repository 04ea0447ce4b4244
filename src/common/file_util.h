// Small filesystem helpers with the guarantees the rest of shadowplane relies on.
#ifndef SHADOWPLANE_COMMON_FILE_UTIL_H_
#define SHADOWPLANE_COMMON_FILE_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace shadowplane {

// Replaces `path` with `content` so that a reader (or a crash) sees the old or the new content,
// never a mix: write a temporary file in the same directory, fsync it, rename it over `path`,
// fsync the directory. `mode` applies to the new file.
absl::Status WriteFileAtomically(const std::string& path, const std::string& content,
                                 int mode = 0644);

// The whole file. NOT_FOUND if it does not exist, FAILED_PRECONDITION if it cannot be read.
absl::StatusOr<std::string> ReadFile(const std::string& path);
// The whole file when it holds at most `max_bytes`; FAILED_PRECONDITION naming the bound
// otherwise, having read no more than one byte past it (a file that grows while read, or a
// device, never fills memory).
absl::StatusOr<std::string> ReadFileUpTo(const std::string& path, size_t max_bytes);

// fsyncs the directory holding `path`, so that a rename or creation in it is durable.
absl::Status SyncParentDirectory(const std::string& path);

// fsyncs every regular file and directory below `root` and `root` itself, never following a
// symbolic link (a link's own entry is made durable by its directory's fsync): what a copy wrote
// is on disk before the copy is renamed into place.
absl::Status SyncTree(const std::string& root);

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_FILE_UTIL_H_
