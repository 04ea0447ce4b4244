#include "common/secret_file.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace shadowplane {
namespace {

FileStamp StampFrom(const struct stat& st) {
  FileStamp s;
  s.inode = st.st_ino;
  s.size = st.st_size;
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return s;
}

}  // namespace

absl::StatusOr<FileStamp> StampOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return absl::NotFoundError(absl::StrCat(path, " is missing"));
  return StampFrom(st);
}

absl::StatusOr<std::string> ReadPrivateFile(const std::string& path, const std::string& what,
                                            size_t max_bytes, FileStamp* stamp) {
  std::ifstream in(path, std::ios::binary);
  struct stat st {};
  if (!in || stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat(what, " ", path, " does not exist or cannot be read"));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(what, " ", path, " is not a regular file"));
  }
  if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s %s may be read or written by others (mode %03o): chmod o-rw it", what,
                        path, st.st_mode & 0777));
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", path, " is over ", max_bytes, " bytes"));
  }
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().size() > max_bytes) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", path, " is over ", max_bytes, " bytes"));
  }
  if (stamp != nullptr) *stamp = StampFrom(st);
  return text.str();
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path, const std::string& what) {
  absl::StatusOr<std::string> text = ReadPrivateFile(path, what, 64 << 10);
  if (!text.ok()) return text.status();
  std::string secret(absl::StripAsciiWhitespace(*text));
  if (secret.empty() || secret.find_first_of("\r\n") != std::string::npos) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", path, " must hold one line with the secret"));
  }
  return secret;
}

}  // namespace shadowplane
