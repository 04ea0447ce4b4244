// What identifies one version of a file cheaply: if size, modification time, inode and change
// time are all unchanged, its content is taken as unchanged. Size and mtime are rsync's quick
// check; the inode catches a file replaced by rename; the change time catches a rewrite whose
// mtime was set back (anyone can set mtime, nobody can set ctime).
#ifndef SHADOWPLANE_SYNC_FILE_IDENTITY_H_
#define SHADOWPLANE_SYNC_FILE_IDENTITY_H_

#include <sys/stat.h>
#include <time.h>

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

// A time in nanoseconds since the epoch as a timespec: whole seconds rounded down, so that a time
// before 1970 keeps tv_nsec in [0, 1e9) (C's division would make it negative: EINVAL).
inline struct timespec TimespecOfNs(int64_t ns) {
  int64_t sec = ns / 1000000000;
  int64_t nsec = ns % 1000000000;
  if (nsec < 0) {
    nsec += 1000000000;
    --sec;
  }
  struct timespec t;
  t.tv_sec = static_cast<time_t>(sec);
  t.tv_nsec = static_cast<long>(nsec);
  return t;
}

// The mode bits a sync carries: permissions and the sticky bit. Never setuid or setgid: a source
// cannot make the target's agent create a program that runs as the agent's user.
inline constexpr uint32_t kSyncedModeBits = 01777;

inline FileIdentity IdentityOf(const struct stat& st) {
  return FileIdentity{st.st_size, MtimeNs(st), static_cast<uint64_t>(st.st_ino),
                      int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec};
}

}  // namespace shadowplane::sync

#endif  // SHADOWPLANE_SYNC_FILE_IDENTITY_H_
