#include "sync/file_state_cache.h"

namespace shadowplane::sync {

std::optional<Digest> FileStateCache::Hash(const std::string& path,
                                           const FileIdentity& identity) const {
  absl::MutexLock lock(&mu_);
  auto it = files_.find(path);
  if (it == files_.end() || it->second.identity != identity) return std::nullopt;
  return it->second.sha256;
}

std::shared_ptr<const std::string> FileStateCache::Signature(const std::string& path,
                                                             const FileIdentity& identity) const {
  absl::MutexLock lock(&mu_);
  auto it = files_.find(path);
  if (it == files_.end() || it->second.identity != identity) return nullptr;
  return it->second.signature;
}

void FileStateCache::DropSignature(State& state) {
  if (state.signature != nullptr) signature_bytes_ -= state.signature->size();
  state.signature.reset();
}

void FileStateCache::SetSignature(State& state, std::string signature) {
  DropSignature(state);
  if (signature_bytes_ + static_cast<int64_t>(signature.size()) > signature_budget_) return;
  signature_bytes_ += signature.size();
  state.signature = std::make_shared<const std::string>(std::move(signature));
}

void FileStateCache::Put(const std::string& path, const FileIdentity& identity,
                         const Digest& sha256, std::optional<std::string> signature) {
  absl::MutexLock lock(&mu_);
  State& state = files_[path];
  if (state.identity != identity) DropSignature(state);
  state.identity = identity;
  state.sha256 = sha256;
  if (signature.has_value()) SetSignature(state, std::move(*signature));
}

void FileStateCache::PutSignature(const std::string& path, const FileIdentity& identity,
                                  std::string signature) {
  absl::MutexLock lock(&mu_);
  State& state = files_[path];
  if (state.identity != identity) {
    DropSignature(state);
    state.sha256.reset();
    state.identity = identity;
  }
  SetSignature(state, std::move(signature));
}

void FileStateCache::Retain(const std::set<std::string>& live) {
  absl::MutexLock lock(&mu_);
  for (auto it = files_.begin(); it != files_.end();) {
    if (live.count(it->first) == 0) {
      DropSignature(it->second);
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace shadowplane::sync
