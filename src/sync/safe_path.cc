#include "sync/safe_path.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/sync_temporary_name.h"

namespace shadowplane::sync {

absl::Status ValidateRelativePath(absl::string_view path) {
  auto refuse = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("path \"", absl::CEscape(path), "\": ", why));
  };
  if (path.empty()) return refuse("empty");
  if (path.size() > 4096) return refuse("longer than 4096 bytes");
  if (path.front() == '/') return refuse("absolute");
  if (path.find('\0') != absl::string_view::npos) return refuse("contains NUL");
  for (absl::string_view component : absl::StrSplit(path, '/')) {
    if (component.empty()) return refuse("empty component");
    if (component == "." || component == "..") return refuse("\".\" or \"..\" component");
    if (component.size() > 255) return refuse("component longer than 255 bytes");
    if (IsSyncTemporaryName(component)) {
      return refuse("temporary name");
    }
  }
  return absl::OkStatus();
}

std::pair<absl::string_view, absl::string_view> SplitParent(absl::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return {absl::string_view(), path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

absl::StatusOr<UniqueFd> OpenDirectoryBeneath(int root_fd, absl::string_view relative) {
  UniqueFd current(fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (!current.valid()) return absl::InternalError(absl::StrCat("dup: ", strerror(errno)));
  if (relative.empty()) return current;
  for (absl::string_view component : absl::StrSplit(relative, '/')) {
    std::string name(component);
    int fd = openat(current.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) {
        return absl::NotFoundError(absl::StrCat("directory \"", relative, "\" does not exist"));
      }
      if (errno == ELOOP || errno == ENOTDIR) {
        return absl::FailedPreconditionError(absl::StrCat("\"", relative, "\": component \"", name,
                                                          "\" is a link or not a directory"));
      }
      return absl::InternalError(absl::StrCat("open \"", relative, "\": ", strerror(errno)));
    }
    current.reset(fd);
  }
  return current;
}

absl::StatusOr<UniqueFd> OpenDirectory(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, " does not exist"));
    return absl::FailedPreconditionError(absl::StrCat("open ", path, ": ", strerror(errno)));
  }
  return UniqueFd(fd);
}

}  // namespace shadowplane::sync
