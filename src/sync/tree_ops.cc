#include "sync/tree_ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "common/sync_temporary_name.h"
#include "common/unique_fd.h"
#include "sync/file_identity.h"
#include "sync/safe_path.h"

namespace shadowplane::sync {

namespace {

absl::Status Errno(const std::string& what, const std::string& path) {
  int error = errno;
  if (error == ENOSPC || error == EDQUOT) {
    return absl::ResourceExhaustedError(
        absl::StrCat("no space left on the target: ", what, " ", path));
  }
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", strerror(error)));
}

// Empties the directory open at `dir_fd`.
absl::Status EmptyDirectory(int dir_fd, const std::string& path) {
  int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  DIR* dir = fd < 0 ? nullptr : fdopendir(fd);
  if (dir == nullptr) {
    if (fd >= 0) close(fd);
    return Errno("list", path);
  }
  rewinddir(dir);  // the duplicate shares its offset with `dir_fd`
  std::vector<std::pair<std::string, bool>> children;
  while (struct dirent* d = readdir(dir)) {
    std::string name = d->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    children.emplace_back(name, S_ISDIR(st.st_mode));
  }
  closedir(dir);
  for (const auto& [name, is_dir] : children) {
    if (is_dir) {
      int child = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) continue;
      UniqueFd child_fd(child);
      RETURN_IF_ERROR(EmptyDirectory(child_fd.get(), absl::StrCat(path, "/", name)));
    }
    if (unlinkat(dir_fd, name.c_str(), is_dir ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT) {
      return Errno("remove", absl::StrCat(path, "/", name));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RemovePath(int root_fd, const std::string& path) {
  auto [parent, name] = SplitParent(path);
  absl::StatusOr<UniqueFd> dir = OpenDirectoryBeneath(root_fd, parent);
  if (absl::IsNotFound(dir.status())) return absl::OkStatus();
  RETURN_IF_ERROR(dir.status());
  std::string leaf(name);
  struct stat st {};
  if (fstatat(dir->get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? absl::OkStatus() : Errno("stat", path);
  }
  if (S_ISDIR(st.st_mode)) {
    int child = openat(dir->get(), leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child < 0) return Errno("open", path);
    UniqueFd child_fd(child);
    RETURN_IF_ERROR(EmptyDirectory(child_fd.get(), path));
  }
  if (unlinkat(dir->get(), leaf.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0 &&
      errno != ENOENT) {
    return Errno("remove", path);
  }
  return absl::OkStatus();
}

absl::Status MakeDirectory(int root_fd, const std::string& path) {
  auto [parent, name] = SplitParent(path);
  ASSIGN_OR_RETURN(UniqueFd dir, OpenDirectoryBeneath(root_fd, parent));
  std::string leaf(name);
  if (mkdirat(dir.get(), leaf.c_str(), 0700) != 0 && errno != EEXIST) {
    return Errno("mkdir", path);
  }
  return absl::OkStatus();
}

absl::Status PlaceSymlink(int root_fd, const std::string& path, const std::string& target) {
  auto [parent, name] = SplitParent(path);
  ASSIGN_OR_RETURN(UniqueFd dir, OpenDirectoryBeneath(root_fd, parent));
  static thread_local std::mt19937_64 random(std::random_device{}());
  std::string temp = SyncTemporaryName(random());
  if (symlinkat(target.c_str(), dir.get(), temp.c_str()) != 0) return Errno("symlink", path);
  std::string leaf(name);
  if (renameat(dir.get(), temp.c_str(), dir.get(), leaf.c_str()) != 0) {
    absl::Status status = Errno("rename", path);
    unlinkat(dir.get(), temp.c_str(), 0);
    return status;
  }
  return absl::OkStatus();
}

absl::Status SetMetadata(int root_fd, const std::string& path, bool is_link, uint32_t mode,
                         int64_t mtime_ns) {
  auto [parent, name] = SplitParent(path);
  ASSIGN_OR_RETURN(UniqueFd dir, OpenDirectoryBeneath(root_fd, parent));
  std::string leaf(name);
  // fchmodat cannot refuse to follow a link on Linux; is_link entries have no mode to set, and
  // for others the entry was just checked not to be a link by the caller's scan. Opening with
  // O_NOFOLLOW and changing the descriptor closes the remaining race.
  if (!is_link) {
    int fd = openat(dir.get(), leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return Errno("open", path);
    UniqueFd file(fd);
    if (fchmod(fd, mode & kSyncedModeBits) != 0) return Errno("chmod", path);
  }
  struct timespec times[2];
  times[0] = TimespecOfNs(mtime_ns);
  times[1] = times[0];
  if (utimensat(dir.get(), leaf.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return Errno("set times of", path);
  }
  return absl::OkStatus();
}

absl::Status SyncDirectory(int root_fd, const std::string& path) {
  ASSIGN_OR_RETURN(UniqueFd dir, OpenDirectoryBeneath(root_fd, path));
  if (fsync(dir.get()) != 0) return Errno("fsync", path.empty() ? "." : path);
  return absl::OkStatus();
}

}  // namespace shadowplane::sync
