#include "sync/tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/sync_temporary_name.h"
#include "sync/safe_path.h"

namespace shadowplane::sync {

namespace {

absl::Status Walk(int dir_fd, const std::string& prefix, TreeScan& scan) {
  int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  DIR* dir = fd < 0 ? nullptr : fdopendir(fd);
  if (dir == nullptr) {
    if (fd >= 0) close(fd);
    return absl::InternalError(
        absl::StrCat("reading directory \"", prefix, "\": ", strerror(errno)));
  }
  // The duplicate shares its offset with `dir_fd`: start from the top even if it was read before.
  rewinddir(dir);
  std::vector<std::string> subdirs;
  while (struct dirent* d = readdir(dir)) {
    std::string name = d->d_name;
    if (name == "." || name == "..") continue;
    std::string path = prefix.empty() ? name : absl::StrCat(prefix, "/", name);
    if (IsSyncTemporaryName(name)) {
      scan.temporaries.push_back(path);
      continue;
    }
    struct stat st {};
    if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // vanished
    TreeEntry entry;
    entry.path = path;
    entry.mode = st.st_mode & kSyncedModeBits;
    entry.identity = IdentityOf(st);
    if (S_ISREG(st.st_mode)) {
      entry.kind = EntryKind::kFile;
    } else if (S_ISDIR(st.st_mode)) {
      entry.kind = EntryKind::kDirectory;
      entry.identity.size = 0;
      subdirs.push_back(name);
    } else if (S_ISLNK(st.st_mode)) {
      entry.kind = EntryKind::kSymlink;
      std::string target(st.st_size > 0 ? st.st_size + 1 : 4096, '\0');
      ssize_t n = readlinkat(dir_fd, name.c_str(), target.data(), target.size());
      if (n < 0) continue;  // vanished
      target.resize(n);
      entry.link_target = std::move(target);
    } else {
      continue;  // sockets, fifos, devices: never synced
    }
    scan.entries.push_back(std::move(entry));
  }
  closedir(dir);
  for (const std::string& name : subdirs) {
    int child = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child < 0) continue;  // vanished or replaced by a link since it was listed
    UniqueFd child_fd(child);
    RETURN_IF_ERROR(
        Walk(child_fd.get(), prefix.empty() ? name : absl::StrCat(prefix, "/", name), scan));
  }
  return absl::OkStatus();
}

void AppendU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

absl::StatusOr<TreeScan> ScanTree(int root_fd) {
  TreeScan scan;
  RETURN_IF_ERROR(Walk(root_fd, "", scan));
  std::sort(scan.entries.begin(), scan.entries.end(),
            [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
  return scan;
}

absl::StatusOr<std::string> TreeHash(const std::vector<TreeEntry>& entries) {
  ContentHasher hasher;
  std::string record;
  for (const TreeEntry& e : entries) {
    record.clear();
    record.push_back(static_cast<char>(e.kind));
    AppendU64(record, e.path.size());
    record += e.path;
    AppendU64(record, e.mode);
    if (e.kind == EntryKind::kFile) {
      if (!e.sha256.has_value()) {
        return absl::FailedPreconditionError(absl::StrCat("no content hash for ", e.path));
      }
      AppendU64(record, e.identity.size);
      record += DigestBytes(*e.sha256);
    } else if (e.kind == EntryKind::kSymlink) {
      AppendU64(record, e.link_target.size());
      record += e.link_target;
    }
    hasher.Update(record.data(), record.size());
  }
  return DigestToHex(hasher.Finish());
}

}  // namespace shadowplane::sync
