// What identifies one version of a file cheaply: if size, modification time, inode and change
// time are all unchanged, its content is taken as unchanged. Size and mtime are rsync's quick
// check; the inode catches a file replaced by rename; the change time catches a rewrite whose
// mtime was set back (anyone can set mtime, nobody can set ctime).
#ifndef SHADOWPLANE_SYNC_FILE_IDENTITY_H_
#define SHADOWPLANE_SYNC_FILE_IDENTITY_H_

#include <sys/stat.h>

#include <cstdint>

namespace shadowplane::sync {

struct FileIdentity {
  int64_t size = -1;
  int64_t mtime_ns = 0;
  uint64_t inode = 0;
  int64_t ctime_ns = 0;

  bool operator==(const FileIdentity& o) const {
    return size == o.size && mtime_ns == o.mtime_ns && inode == o.inode && ctime_ns == o.ctime_ns;
  }
  bool operator!=(const FileIdentity& o) const { return !(*this == o); }
};

inline int64_t MtimeNs(const struct stat& st) {
  return int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
}

inline FileIdentity IdentityOf(const struct stat& st) {
  return FileIdentity{st.st_size, MtimeNs(st), static_cast<uint64_t>(st.st_ino),
                      int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec};
}

}  // namespace shadowplane::sync

#endif  // SHADOWPLANE_SYNC_FILE_IDENTITY_H_
