// What identifies one version of a file cheaply: if size, modification time and inode are all
// unchanged, its content is taken as unchanged (rsync's quick check, plus the inode so that a
// file replaced by rename is never mistaken for the old one).
#ifndef SHADOWPLANE_SYNC_FILE_IDENTITY_H_
#define SHADOWPLANE_SYNC_FILE_IDENTITY_H_

#include <sys/stat.h>

#include <cstdint>

namespace shadowplane::sync {

struct FileIdentity {
  int64_t size = -1;
  int64_t mtime_ns = 0;
  uint64_t inode = 0;

  bool operator==(const FileIdentity& o) const {
    return size == o.size && mtime_ns == o.mtime_ns && inode == o.inode;
  }
  bool operator!=(const FileIdentity& o) const { return !(*this == o); }
};

inline int64_t MtimeNs(const struct stat& st) {
  return int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
}

inline FileIdentity IdentityOf(const struct stat& st) {
  return FileIdentity{st.st_size, MtimeNs(st), static_cast<uint64_t>(st.st_ino)};
}

}  // namespace shadowplane::sync

#endif  // SHADOWPLANE_SYNC_FILE_IDENTITY_H_
