// Changes to a target tree, each made through directory file descriptors opened without
// following links (see safe_path.h), each atomic on its own or safe to repeat.
#ifndef SHADOWPLANE_SYNC_TREE_OPS_H_
#define SHADOWPLANE_SYNC_TREE_OPS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace shadowplane::sync {

// Removes `path` (a directory with everything below it). Missing is fine.
absl::Status RemovePath(int root_fd, const std::string& path);
// Creates the directory `path` (mode 0700 until its final mode is set). Existing is fine.
absl::Status MakeDirectory(int root_fd, const std::string& path);
// Makes `path` a symbolic link to `target`, verbatim, replacing a file or link atomically.
absl::Status PlaceSymlink(int root_fd, const std::string& path, const std::string& target);
// Sets permission bits (not for links, which have none) and the modification time of `path`.
absl::Status SetMetadata(int root_fd, const std::string& path, bool is_link, uint32_t mode,
                         int64_t mtime_ns);
// fsyncs the directory `path`, making renames and creations in it durable.
absl::Status SyncDirectory(int root_fd, const std::string& path);

}  // namespace shadowplane::sync

#endif  // SHADOWPLANE_SYNC_TREE_OPS_H_
