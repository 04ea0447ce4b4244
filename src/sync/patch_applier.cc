#include "sync/patch_applier.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "common/sync_temporary_name.h"
#include "sync/safe_path.h"

namespace shadowplane::sync {

namespace {

std::string TemporaryName() {
  static thread_local std::mt19937_64 random(std::random_device{}());
  return SyncTemporaryName(random());
}

absl::Status WriteError(int error, const std::string& name) {
  if (error == ENOSPC || error == EDQUOT) {
    return absl::ResourceExhaustedError(
        absl::StrCat("no space left on the target writing ", name, ": ", strerror(error)));
  }
  if (error == EFBIG) {
    return absl::ResourceExhaustedError(absl::StrCat("file too large for the target: ", name));
  }
  return absl::InternalError(absl::StrCat("writing ", name, ": ", strerror(error)));
}

}  // namespace

PatchApplier::PatchApplier(int dir_fd, std::string name, UniqueFd basis, int64_t max_size)
    : dir_fd_(dir_fd),
      name_(std::move(name)),
      max_size_(max_size),
      basis_(std::move(basis)),
      job_(rs_patch_begin(&PatchApplier::CopyFromBasis, this), "patch", 1 << 20) {}

absl::StatusOr<std::unique_ptr<PatchApplier>> PatchApplier::Begin(int dir_fd, std::string name,
                                                                  UniqueFd basis,
                                                                  int64_t max_size) {
  std::unique_ptr<PatchApplier> applier(
      new PatchApplier(dir_fd, std::move(name), std::move(basis), max_size));
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string temp = TemporaryName();
    int fd =
        openat(dir_fd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
      applier->temp_name_ = std::move(temp);
      applier->out_.reset(fd);
      return applier;
    }
    if (errno != EEXIST) return WriteError(errno, applier->name_);
  }
  return absl::InternalError("could not pick a temporary file name");
}

PatchApplier::~PatchApplier() {
  if (!committed_ && !temp_name_.empty()) unlinkat(dir_fd_, temp_name_.c_str(), 0);
}

rs_result PatchApplier::CopyFromBasis(void* opaque, rs_long_t pos, size_t* len, void** buf) {
  auto* self = static_cast<PatchApplier*>(opaque);
  if (!self->basis_.valid()) return RS_CORRUPT;  // a delta that copies from nothing
  size_t done = 0;
  char* out = static_cast<char*>(*buf);
  while (done < *len) {
    ssize_t n = pread(self->basis_.get(), out + done, *len - done, pos + done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return RS_IO_ERROR;
    }
    if (n == 0) break;
    done += n;
  }
  if (done == 0) return RS_CORRUPT;  // a copy beyond the basis
  *len = done;
  return RS_DONE;
}

absl::Status PatchApplier::Write(const char* data, size_t size) {
  if (static_cast<uint64_t>(size) > static_cast<uint64_t>(max_size_ - written_)) {
    return absl::ResourceExhaustedError(absl::StrCat("the delta for ", name_, " writes past ",
                                                     max_size_,
                                                     " bytes, the most its declared size allows"));
  }
  hasher_.Update(data, size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(out_.get(), data + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return WriteError(errno, name_);
    }
    done += n;
  }
  written_ += size;
  // Start writeback as we go, so that the fsync before the rename waits for the tail only.
  constexpr int64_t kWritebackStep = 8 << 20;
  if (written_ - writeback_started_ >= kWritebackStep) {
    sync_file_range(out_.get(), writeback_started_, written_ - writeback_started_,
                    SYNC_FILE_RANGE_WRITE);
    writeback_started_ = written_;
  }
  return absl::OkStatus();
}

absl::Status PatchApplier::Feed(const char* data, size_t size) {
  return job_.Feed(data, size, false, [this](const char* out, size_t n) { return Write(out, n); });
}

absl::StatusOr<RebuiltFile> PatchApplier::Commit(const Digest& sha256, int64_t size, uint32_t mode,
                                                 int64_t mtime_ns) {
  RETURN_IF_ERROR(
      job_.Feed(nullptr, 0, true, [this](const char* out, size_t n) { return Write(out, n); }));
  Digest digest = hasher_.Finish();
  if (written_ != size || digest != sha256) {
    return absl::DataLossError(
        absl::StrCat(name_, ": rebuilt file does not match the source (", written_,
                     " bytes, sha256 ", DigestToHex(digest).substr(0, 16), "; expected ", size,
                     " bytes, sha256 ", DigestToHex(sha256).substr(0, 16), ")"));
  }
  RebuiltFile result;
  result.sha256 = digest;
  if (fchmod(out_.get(), mode & kSyncedModeBits) != 0) return WriteError(errno, name_);
  struct timespec times[2];
  times[0] = TimespecOfNs(mtime_ns);
  times[1] = times[0];
  if (futimens(out_.get(), times) != 0) return WriteError(errno, name_);
  if (fsync(out_.get()) != 0) return WriteError(errno, name_);
  // renameat replaces whatever has the name (a file or a link, never what a link points to).
  if (renameat(dir_fd_, temp_name_.c_str(), dir_fd_, name_.c_str()) != 0) {
    return WriteError(errno, name_);
  }
  committed_ = true;
  // After the rename, which may change the file's ctime.
  struct stat st {};
  if (fstat(out_.get(), &st) != 0) return WriteError(errno, name_);
  result.identity = IdentityOf(st);
  return result;
}

}  // namespace shadowplane::sync
