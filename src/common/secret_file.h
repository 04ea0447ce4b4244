// Secrets (tokens, keys) are read only from files that others can neither read nor write: a
// file open to others is refused with a message that says how to fix it. The contents never
// appear in an error.
#ifndef SHADOWPLANE_COMMON_SECRET_FILE_H_
#define SHADOWPLANE_COMMON_SECRET_FILE_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace shadowplane {

// Which version of a file was read: a change of any of these is a new one.
struct FileStamp {
  ino_t inode = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileStamp& o) const {
    return inode == o.inode && size == o.size && mtime_ns == o.mtime_ns;
  }
};

// The file's stamp now; NOT_FOUND when it does not exist.
absl::StatusOr<FileStamp> StampOf(const std::string& path);

// `what` names the file in errors ("tokens file"). NOT_FOUND when it does not exist;
// FAILED_PRECONDITION when others may read or write it, it is not a regular file, or it is over
// `max_bytes`. `stamp`, when given, gets the version read.
absl::StatusOr<std::string> ReadPrivateFile(const std::string& path, const std::string& what,
                                            size_t max_bytes, FileStamp* stamp = nullptr);

// A single-line secret (a bearer token): ReadPrivateFile, whitespace at the ends dropped;
// FAILED_PRECONDITION when that leaves nothing.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path, const std::string& what);

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_SECRET_FILE_H_
