// Rebuilds one file from its basis and a librsync delta, atomically.
//
// The new version is written to a temporary file in the target's own directory (so that the
// rename is atomic), hashed as it is written, checked against the source's size and SHA-256,
// given the source's mode and mtime, fsynced, and only then renamed over the old name. A reader
// sees the old or the new version, never a torn one; a failure at any point (corrupt or
// truncated delta, full disk, hash mismatch) removes the temporary file and leaves the old
// version in place. Not thread-safe.
#ifndef SHADOWPLANE_SYNC_PATCH_APPLIER_H_
#define SHADOWPLANE_SYNC_PATCH_APPLIER_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "sync/content_hash.h"
#include "sync/file_identity.h"
#include "sync/rsync_job.h"

namespace shadowplane::sync {

struct RebuiltFile {
  FileIdentity identity;  // of the file now in place
  Digest sha256;
};

class PatchApplier {
 public:
  // `dir_fd` is the directory that will hold `name`; `basis` the old version (may be invalid: no
  // basis). The delta may write at most `max_size` bytes: past that, Feed refuses it before
  // writing (a few bytes of COPY commands can repeat a large basis many times).
  static absl::StatusOr<std::unique_ptr<PatchApplier>> Begin(
      int dir_fd, std::string name, UniqueFd basis,
      int64_t max_size = std::numeric_limits<int64_t>::max());
  // Removes the temporary file unless committed.
  ~PatchApplier();

  // The next piece of the delta. DATA_LOSS for a corrupt delta, RESOURCE_EXHAUSTED when the
  // disk is full or the delta writes past `max_size`. After an error the applier is spent.
  absl::Status Feed(const char* data, size_t size);
  // Ends the delta and, if the result matches `sha256` and `size`, puts it in place with `mode`
  // and `mtime_ns`. DATA_LOSS for a truncated delta or a mismatch.
  absl::StatusOr<RebuiltFile> Commit(const Digest& sha256, int64_t size, uint32_t mode,
                                     int64_t mtime_ns);

  int64_t bytes_written() const { return written_; }

 private:
  PatchApplier(int dir_fd, std::string name, UniqueFd basis, int64_t max_size);
  static rs_result CopyFromBasis(void* opaque, rs_long_t pos, size_t* len, void** buf);
  absl::Status Write(const char* data, size_t size);

  const int dir_fd_;
  const std::string name_;
  const int64_t max_size_;
  std::string temp_name_;
  UniqueFd basis_;
  UniqueFd out_;
  RsJob job_;
  ContentHasher hasher_;
  int64_t written_ = 0;
  int64_t writeback_started_ = 0;
  bool committed_ = false;
};

}  // namespace shadowplane::sync

#endif  // SHADOWPLANE_SYNC_PATCH_APPLIER_H_
