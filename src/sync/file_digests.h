// Content hashes for the files of a scanned tree, from the cache where the file is unchanged and
// by reading it otherwise (on several threads: hashing a large tree is I/O and CPU bound).
#ifndef SHADOWPLANE_SYNC_FILE_DIGESTS_H_
#define SHADOWPLANE_SYNC_FILE_DIGESTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "sync/file_state_cache.h"
#include "sync/tree.h"

namespace shadowplane::sync {

// Opens the regular file `path` beneath `root_fd` for reading, following no link anywhere.
// NOT_FOUND when it is gone, FAILED_PRECONDITION when it is a link or not a regular file.
absl::StatusOr<UniqueFd> OpenFileBeneath(int root_fd, const std::string& path);

// Sets `sha256` on every file entry. A file that changes while it is hashed keeps no hash (the
// caller treats it as different). Files whose hash is cached for their identity are not read.
absl::Status FillDigests(int root_fd, std::vector<TreeEntry>& entries, FileStateCache& cache,
                         int threads);

}  // namespace shadowplane::sync

#endif  // SHADOWPLANE_SYNC_FILE_DIGESTS_H_
