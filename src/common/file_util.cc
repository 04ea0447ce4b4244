#include "common/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"

namespace shadowplane {
namespace {

// NOT_FOUND or FAILED_PRECONDITION for a file that could not be opened for reading.
absl::Status OpenError(const std::string& path) {
  if (access(path.c_str(), F_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(path, " does not exist"));
  }
  return absl::FailedPreconditionError(absl::StrCat(path, " cannot be read"));
}

std::string ParentOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status ErrnoError(const std::string& what) {
  const int err = errno;
  std::string message = absl::StrCat(what, ": ", strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::FailedPreconditionError(message);
}

}  // namespace

absl::Status SyncParentDirectory(const std::string& path) {
  const std::string dir = ParentOf(path);
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(absl::StrCat("open ", dir));
  absl::Cleanup close_fd = [fd] { close(fd); };
  if (fsync(fd) != 0) return ErrnoError(absl::StrCat("fsync ", dir));
  return absl::OkStatus();
}

absl::Status SyncTree(const std::string& root) {
  std::error_code ec;
  std::vector<std::string> paths{root};
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const std::filesystem::file_status st = it->symlink_status(ec);
    if (ec) break;
    if (std::filesystem::is_regular_file(st) || std::filesystem::is_directory(st)) {
      paths.push_back(it->path().string());
    }
  }
  if (ec) return absl::FailedPreconditionError(absl::StrCat("listing ", root, ": ", ec.message()));
  for (const std::string& path : paths) {
    const int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return ErrnoError(absl::StrCat("open ", path));
    absl::Cleanup close_fd = [fd] { close(fd); };
    if (fsync(fd) != 0) return ErrnoError(absl::StrCat("fsync ", path));
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& content, int mode) {
  std::string temp =
      absl::StrCat(ParentOf(path), "/.", path.substr(path.rfind('/') + 1), ".tmp-XXXXXX");
  const int fd = mkstemp(temp.data());
  if (fd < 0) return ErrnoError(absl::StrCat("create a temporary file beside ", path));
  bool keep = false;
  absl::Cleanup remove_temp = [&] {
    if (!keep) unlink(temp.c_str());
  };
  {
    absl::Cleanup close_fd = [fd] { close(fd); };
    size_t written = 0;
    while (written < content.size()) {
      const ssize_t n = write(fd, content.data() + written, content.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoError(absl::StrCat("write ", temp));
      written += static_cast<size_t>(n);
    }
    if (fchmod(fd, static_cast<mode_t>(mode)) != 0) return ErrnoError(absl::StrCat("chmod ", temp));
    if (fsync(fd) != 0) return ErrnoError(absl::StrCat("fsync ", temp));
  }
  if (rename(temp.c_str(), path.c_str()) != 0) {
    return ErrnoError(absl::StrCat("rename ", temp, " to ", path));
  }
  keep = true;
  return SyncParentDirectory(path);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return OpenError(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<std::string> ReadFileUpTo(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return OpenError(path);
  // Read straight into the result, never through a buffer on the stack: callers include the
  // metrics endpoint's threads (certificate expiry on every scrape), whose stacks are small.
  constexpr size_t kChunk = 64 * 1024;
  std::string out;
  while (in) {
    const size_t had = out.size();
    out.resize(had + kChunk);
    in.read(out.data() + had, static_cast<std::streamsize>(kChunk));
    out.resize(had + static_cast<size_t>(in.gcount()));
    if (out.size() > max_bytes) {
      return absl::FailedPreconditionError(absl::StrCat(path, " is over ", max_bytes, " bytes"));
    }
  }
  if (in.bad()) return absl::FailedPreconditionError(absl::StrCat(path, " cannot be read"));
  return out;
}

}  // namespace shadowplane
