#include "sync/file_digests.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "sync/safe_path.h"

namespace shadowplane::sync {

absl::StatusOr<UniqueFd> OpenFileBeneath(int root_fd, const std::string& path) {
  auto [parent, name] = SplitParent(path);
  ASSIGN_OR_RETURN(UniqueFd dir, OpenDirectoryBeneath(root_fd, parent));
  std::string leaf(name);
  int fd = openat(dir.get(), leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, " is gone"));
    if (errno == ELOOP) return absl::FailedPreconditionError(absl::StrCat(path, " is a link"));
    return absl::InternalError(absl::StrCat("open ", path, ": ", strerror(errno)));
  }
  UniqueFd file(fd);
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is not a regular file"));
  }
  return file;
}

absl::Status FillDigests(int root_fd, std::vector<TreeEntry>& entries, FileStateCache& cache,
                         int threads) {
  std::vector<TreeEntry*> misses;
  for (TreeEntry& e : entries) {
    if (e.kind != EntryKind::kFile) continue;
    e.sha256 = cache.Hash(e.path, e.identity);
    if (!e.sha256.has_value()) misses.push_back(&e);
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < misses.size(); i = next++) {
      TreeEntry& e = *misses[i];
      absl::StatusOr<UniqueFd> fd = OpenFileBeneath(root_fd, e.path);
      if (!fd.ok()) continue;  // gone or replaced: no hash, so it counts as different
      struct stat before {
      }, after{};
      if (fstat(fd->get(), &before) != 0 || IdentityOf(before) != e.identity) continue;
      int64_t read = 0;
      absl::StatusOr<Digest> digest = HashFile(fd->get(), &read);
      if (!digest.ok() || fstat(fd->get(), &after) != 0 || IdentityOf(after) != e.identity ||
          read != e.identity.size) {
        continue;  // changed while it was read
      }
      e.sha256 = *digest;
      cache.Put(e.path, e.identity, *digest);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads && static_cast<size_t>(t) < misses.size(); ++t) {
    pool.emplace_back(work);
  }
  work();
  for (std::thread& t : pool) t.join();
  return absl::OkStatus();
}

}  // namespace shadowplane::sync
