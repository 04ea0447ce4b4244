// A data tree as the sync sees it: regular files, directories and symbolic links, by relative
// path, read without following any link.
#ifndef SHADOWPLANE_SYNC_TREE_H_
#define SHADOWPLANE_SYNC_TREE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sync/content_hash.h"
#include "sync/file_identity.h"

namespace shadowplane::sync {

enum class EntryKind { kFile, kDirectory, kSymlink };

struct TreeEntry {
  std::string path;
  EntryKind kind = EntryKind::kFile;
  uint32_t mode = 0;  // permission bits
  FileIdentity identity;
  std::string link_target;
  std::optional<Digest> sha256;  // files, when known
};

struct TreeScan {
  std::vector<TreeEntry> entries;        // sorted by path: a directory precedes what it holds
  std::vector<std::string> temporaries;  // leftover temporary files of a killed sync
};

// Walks the tree below the directory `root_fd`. Entries that vanish while walking are skipped.
absl::StatusOr<TreeScan> ScanTree(int root_fd);

// The hash of a whole tree: every entry's path, kind, mode, size and SHA-256 or link target, in
// path order. Modification times are left out: equal hashes mean equal bytes. FAILED_PRECONDITION
// when a file's SHA-256 is missing.
absl::StatusOr<std::string> TreeHash(const std::vector<TreeEntry>& entries);

}  // namespace shadowplane::sync

#endif  // SHADOWPLANE_SYNC_TREE_H_
