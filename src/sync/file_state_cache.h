// What one side of a sync remembers about the files of one tree between rounds: each file's
// SHA-256 and, on a target, the librsync signature of its current version. An entry is valid only
// for the exact FileIdentity (size, mtime, inode) it was recorded with, so any change to the file
// (or its replacement by another) invalidates it. Signatures are kept up to a byte budget;
// beyond it they are simply recomputed. Thread-safe.
#ifndef SHADOWPLANE_SYNC_FILE_STATE_CACHE_H_
#define SHADOWPLANE_SYNC_FILE_STATE_CACHE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sync/content_hash.h"
#include "sync/file_identity.h"

namespace shadowplane::sync {

class FileStateCache {
 public:
  explicit FileStateCache(int64_t signature_budget_bytes = 64 << 20)
      : signature_budget_(signature_budget_bytes) {}

  std::optional<Digest> Hash(const std::string& path, const FileIdentity& identity) const;
  std::shared_ptr<const std::string> Signature(const std::string& path,
                                               const FileIdentity& identity) const;
  // Records the hash (and, when given, the signature) of the version `identity` of `path`.
  void Put(const std::string& path, const FileIdentity& identity, const Digest& sha256,
           std::optional<std::string> signature = std::nullopt);
  void PutSignature(const std::string& path, const FileIdentity& identity, std::string signature);
  // Forgets every path not in `live`.
  void Retain(const std::set<std::string>& live);

 private:
  struct State {
    FileIdentity identity;
    std::optional<Digest> sha256;
    std::shared_ptr<const std::string> signature;
  };
  void DropSignature(State& state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetSignature(State& state, std::string signature) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int64_t signature_budget_;
  mutable absl::Mutex mu_;
  std::map<std::string, State> files_ ABSL_GUARDED_BY(mu_);
  int64_t signature_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shadowplane::sync

#endif  // SHADOWPLANE_SYNC_FILE_STATE_CACHE_H_
