#include "sync/delta_encoder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "sync/file_digests.h"
#include "sync/safe_path.h"

namespace shadowplane::sync {

namespace {

bool SameVersion(const struct stat& a, const struct stat& b) {
  return IdentityOf(a) == IdentityOf(b);
}

}  // namespace

absl::StatusOr<DeltaResult> EncodeFileDelta(int root_fd, const std::string& path,
                                            rs_signature_t* signature, const ByteSink& sink,
                                            size_t piece) {
  ASSIGN_OR_RETURN(UniqueFd fd, OpenFileBeneath(root_fd, path));
  struct stat before {};
  if (fstat(fd.get(), &before) != 0) {
    return absl::InternalError(absl::StrCat("stat ", path, ": ", strerror(errno)));
  }
  posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  RsJob job(rs_delta_begin(signature), "delta", piece);
  ContentHasher hasher;
  // One read buffer per thread, reused: files come in thousands, each a fresh 1 MiB otherwise.
  static thread_local std::vector<char> buffer(1 << 20);
  int64_t offset = 0;
  for (;;) {
    ssize_t n = pread(fd.get(), buffer.data(), buffer.size(), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("read ", path, ": ", strerror(errno)));
    }
    if (n == 0) break;
    hasher.Update(buffer.data(), n);
    RETURN_IF_ERROR(job.Feed(buffer.data(), n, false, sink));
    offset += n;
  }
  RETURN_IF_ERROR(job.Feed(nullptr, 0, true, sink));

  DeltaResult result;
  result.identity = IdentityOf(before);
  result.mode = before.st_mode & kSyncedModeBits;
  result.sha256 = hasher.Finish();
  result.bytes_literal = job.stats().lit_bytes;
  result.bytes_matched = job.stats().copy_bytes;
  // The version read is only trustworthy if the file is still the same one, unmodified, and we
  // read exactly its size: otherwise a writer raced us and the target keeps its old version.
  struct stat after {
  }, by_name{};
  auto [parent, name] = SplitParent(path);
  absl::StatusOr<UniqueFd> dir = OpenDirectoryBeneath(root_fd, parent);
  std::string leaf(name);
  result.changed = fstat(fd.get(), &after) != 0 || !SameVersion(before, after) ||
                   offset != before.st_size || !dir.ok() ||
                   fstatat(dir->get(), leaf.c_str(), &by_name, AT_SYMLINK_NOFOLLOW) != 0 ||
                   by_name.st_ino != before.st_ino;
  return result;
}

}  // namespace shadowplane::sync
