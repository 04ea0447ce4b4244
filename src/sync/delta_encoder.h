// The source side of one file: its librsync delta against the target's signature, streamed in
// pieces, with the facts the target needs to accept it (size, mtime, mode, SHA-256) and whether
// the file changed while it was read.
#ifndef SHADOWPLANE_SYNC_DELTA_ENCODER_H_
#define SHADOWPLANE_SYNC_DELTA_ENCODER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "sync/content_hash.h"
#include "sync/file_identity.h"
#include "sync/rsync_job.h"

namespace shadowplane::sync {

struct DeltaResult {
  FileIdentity identity;
  uint32_t mode = 0;
  Digest sha256{};
  // Size, mtime, ctime or inode moved while the file was read, or it was replaced: the delta
  // must not be applied.
  bool changed = false;
  int64_t bytes_literal = 0;
  int64_t bytes_matched = 0;
};

// Streams the delta of the regular file `path` beneath `root_fd` (no link followed) against
// `signature` into `sink`, in pieces of at most `piece` bytes. NOT_FOUND when the file is gone.
absl::StatusOr<DeltaResult> EncodeFileDelta(int root_fd, const std::string& path,
                                            rs_signature_t* signature, const ByteSink& sink,
                                            size_t piece = 256 << 10);

}  // namespace shadowplane::sync

#endif  // SHADOWPLANE_SYNC_DELTA_ENCODER_H_
