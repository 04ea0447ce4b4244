#include "sync/pull_source.h"

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "sync/delta_encoder.h"
#include "sync/file_digests.h"
#include "sync/safe_path.h"
#include "sync/signature.h"
#include "sync/tree.h"

namespace shadowplane::sync {

namespace v1 = shadowplane::agent::v1;

namespace {

// A manifest message ends at this many entries or bytes (paths may be 4 KiB long), well under
// gRPC's 4 MiB message limit.
constexpr size_t kManifestEntriesPerMessage = 1000;
constexpr size_t kManifestBytesPerMessage = 512 << 10;
// The dirty set is listed up to this many files (and counted in full), keeping the closing
// message small.
constexpr int kMaxDirtyListed = 10000;
// Deltas queued beyond the running ones before the reader stops taking signatures.
constexpr size_t kMaxQueued = 4;

v1::EntryKind WireKind(EntryKind kind) {
  switch (kind) {
    case EntryKind::kFile:
      return v1::FILE;
    case EntryKind::kDirectory:
      return v1::DIRECTORY;
    case EntryKind::kSymlink:
      return v1::SYMLINK;
  }
  return v1::ENTRY_KIND_UNSPECIFIED;
}

class SourceSession {
 public:
  SourceSession(PullStream* stream, const PullSourceEnvironment& env)
      : stream_(stream), env_(env) {}

  absl::Status Run() {
    v1::PullRequest first;
    if (!stream_->Read(&first)) return absl::CancelledError("the target closed the stream");
    if (!first.has_open()) return absl::InvalidArgumentError("the first message must be open");
    const v1::OpenPull& open = first.open();
    mode_ = open.mode();
    if (mode_ != v1::QUICK && mode_ != v1::CHECKSUM && mode_ != v1::FINAL) {
      return absl::InvalidArgumentError("open.mode must be QUICK, CHECKSUM or FINAL");
    }
    ASSIGN_OR_RETURN(std::string root, env_.data_dir(open.instance_id()));
    cache_ = env_.cache(open.instance_id());
    if (env_.epoch) {
      ASSIGN_OR_RETURN(epoch_, env_.epoch(open.instance_id()));
    }
    StartHeartbeats();
    ASSIGN_OR_RETURN(root_fd_, OpenDirectory(root));
    ASSIGN_OR_RETURN(TreeScan scan, ScanTree(root_fd_.get()));
    opening_ = std::move(scan.entries);
    if (mode_ != v1::QUICK) {
      RETURN_IF_ERROR(FillDigests(root_fd_.get(), opening_, *cache_, env_.threads));
    }
    if (env_.testing_before_manifest) env_.testing_before_manifest();
    RETURN_IF_ERROR(SendManifest());

    for (int i = 0; i < env_.threads; ++i) workers_.emplace_back([this] { WorkLoop(); });
    absl::Status status = ReadRequests();
    {
      absl::MutexLock lock(&mu_);
      closing_ = true;
      if (!status.ok()) queue_.clear();
    }
    for (std::thread& t : workers_) t.join();
    if (!status.ok()) return status;
    if (broken_) return absl::CancelledError("the target went away");
    return SendClosing();
  }

  ~SourceSession() { StopHeartbeats(); }

 private:
  struct Pending {
    std::string path;
    std::unique_ptr<LoadedSignature> signature;
    int64_t signature_bytes = 0;
  };

  bool Write(const v1::PullResponse& response) {
    absl::MutexLock lock(&write_mu_);
    if (broken_) return false;
    if (!stream_->Write(response)) broken_ = true;
    last_write_ = absl::Now();
    return !broken_;
  }

  // A heartbeat at once, then whenever nothing else was written for an interval, until the
  // closing: hashing a large tree or searching a large file may take minutes between messages.
  void StartHeartbeats() {
    if (env_.heartbeat_interval <= absl::ZeroDuration()) return;
    v1::PullResponse beat;
    beat.mutable_heartbeat();
    Write(beat);
    heartbeats_ = std::thread([this, beat] {
      absl::MutexLock lock(&beat_mu_);
      while (!stop_beating_ && !broken_) {
        absl::Time last;
        {
          absl::MutexLock write_lock(&write_mu_);
          last = last_write_;
        }
        const absl::Time due = last + env_.heartbeat_interval;
        if (absl::Now() >= due) {
          beat_mu_.Unlock();
          Write(beat);
          beat_mu_.Lock();
          continue;
        }
        beat_mu_.AwaitWithDeadline(absl::Condition(&stop_beating_), due);
      }
    });
  }
  void StopHeartbeats() {
    {
      absl::MutexLock lock(&beat_mu_);
      stop_beating_ = true;
    }
    if (heartbeats_.joinable()) heartbeats_.join();
  }

  absl::Status SendManifest() {
    v1::PullResponse response;
    v1::Manifest* manifest = response.mutable_manifest();
    manifest->set_source_epoch(epoch_);
    size_t bytes = 0;
    for (const TreeEntry& e : opening_) {
      v1::Entry* entry = manifest->add_entries();
      entry->set_path(e.path);
      entry->set_kind(WireKind(e.kind));
      entry->set_mode(e.mode);
      entry->set_size(e.identity.size);
      entry->set_mtime_ns(e.identity.mtime_ns);
      entry->set_link_target(e.link_target);
      if (e.sha256.has_value()) entry->set_sha256(DigestBytes(*e.sha256));
      bytes += e.path.size() + e.link_target.size() + 64;
      if (manifest->entries_size() >= static_cast<int>(kManifestEntriesPerMessage) ||
          bytes >= kManifestBytesPerMessage) {
        if (!Write(response)) return absl::CancelledError("the target went away");
        manifest->clear_entries();
        bytes = 0;
      }
    }
    manifest->set_last(true);
    if (!Write(response)) return absl::CancelledError("the target went away");
    return absl::OkStatus();
  }

  absl::Status ReadRequests() {
    std::map<uint32_t, Pending> receiving;
    v1::PullRequest request;
    while (stream_->Read(&request)) {
      if (request.has_finish()) {
        if (!receiving.empty()) {
          return absl::InvalidArgumentError("finish while signatures are incomplete");
        }
        return absl::OkStatus();
      }
      if (!request.has_file()) return absl::InvalidArgumentError("expected file or finish");
      v1::FileRequest* file = request.mutable_file();
      auto it = receiving.find(file->file_id());
      if (it == receiving.end()) {
        RETURN_IF_ERROR(ValidateRelativePath(file->path()));
        if (static_cast<int64_t>(receiving.size()) >= env_.limits.max_files_receiving) {
          return absl::ResourceExhaustedError(
              absl::StrCat("the target sends signatures of more than ",
                           env_.limits.max_files_receiving, " files at once"));
        }
        Pending pending{file->path(), std::make_unique<LoadedSignature>()};
        it = receiving.emplace(file->file_id(), std::move(pending)).first;
      }
      it->second.signature_bytes += static_cast<int64_t>(file->signature().size());
      if (it->second.signature_bytes > env_.limits.max_signature_bytes) {
        return absl::ResourceExhaustedError(
            absl::StrCat("signature of ", it->second.path, ": larger than ",
                         env_.limits.max_signature_bytes, " bytes"));
      }
      if (absl::Status s = it->second.signature->Update(file->signature()); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("signature of ", it->second.path, ": ", s.message()));
      }
      if (!file->last()) continue;
      if (absl::Status s = it->second.signature->Finish(); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("signature of ", it->second.path, ": ", s.message()));
      }
      uint32_t id = it->first;
      Pending done = std::move(it->second);
      receiving.erase(it);
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](SourceSession* s) { return s->queue_.size() < kMaxQueued || s->broken_; }, this));
      if (broken_) return absl::CancelledError("the target went away");
      queue_.emplace_back(id, std::move(done));
    }
    return absl::CancelledError("the target closed the stream before finishing");
  }

  void WorkLoop() {
    for (;;) {
      std::pair<uint32_t, Pending> task;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](SourceSession* s) { return !s->queue_.empty() || s->closing_; }, this));
        if (queue_.empty()) return;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      SendDelta(task.first, task.second);
    }
  }

  void SendDelta(uint32_t id, Pending& pending) {
    v1::PullResponse chunk;
    chunk.mutable_delta()->set_file_id(id);
    auto sink = [&](const char* data, size_t size) {
      chunk.mutable_delta()->set_data(data, size);
      if (!Write(chunk)) return absl::CancelledError("the target went away");
      return absl::OkStatus();
    };
    absl::StatusOr<DeltaResult> result =
        EncodeFileDelta(root_fd_.get(), pending.path, pending.signature->get(), sink);
    v1::PullResponse end;
    v1::FileEnd* file_end = end.mutable_file_end();
    file_end->set_file_id(id);
    if (!result.ok()) {
      file_end->set_changed(true);
      file_end->set_error(std::string(result.status().message()));
      RecordChanged(pending.path);
    } else {
      file_end->set_size(result->identity.size);
      file_end->set_mtime_ns(result->identity.mtime_ns);
      file_end->set_mode(result->mode);
      file_end->set_sha256(DigestBytes(result->sha256));
      file_end->set_changed(result->changed);
      file_end->set_bytes_literal(result->bytes_literal);
      file_end->set_bytes_matched(result->bytes_matched);
      if (result->changed) {
        RecordChanged(pending.path);
      } else {
        cache_->Put(pending.path, result->identity, result->sha256);
      }
    }
    Write(end);
  }

  void RecordChanged(const std::string& path) {
    absl::MutexLock lock(&mu_);
    changed_during_read_.insert(path);
  }

  absl::Status SendClosing() {
    ASSIGN_OR_RETURN(TreeScan scan, ScanTree(root_fd_.get()));

    std::map<std::string, const TreeEntry*> before;
    for (const TreeEntry& e : opening_) before[e.path] = &e;
    std::set<std::string> dirty;
    {
      absl::MutexLock lock(&mu_);
      dirty = changed_during_read_;
    }
    v1::PullResponse response;
    v1::Closing* closing = response.mutable_closing();
    for (const TreeEntry& e : scan.entries) {
      auto it = before.find(e.path);
      bool changed = it == before.end() || it->second->kind != e.kind ||
                     (e.kind == EntryKind::kFile && it->second->identity != e.identity) ||
                     it->second->link_target != e.link_target;
      if (it != before.end()) before.erase(it);
      if (changed) dirty.insert(e.path);
    }
    for (const auto& [path, entry] : before) dirty.insert(path);  // deleted during the round
    std::map<std::string, int64_t> sizes;
    for (const TreeEntry& e : scan.entries) sizes[e.path] = e.identity.size;
    int64_t dirty_bytes = 0;
    for (const std::string& path : dirty) {
      const int64_t size = sizes.count(path) ? sizes[path] : 0;
      dirty_bytes += size;
      if (closing->dirty_size() >= kMaxDirtyListed) continue;  // counted, not listed
      v1::DirtyFile* d = closing->add_dirty();
      d->set_path(path);
      d->set_size(size);
    }
    closing->set_dirty_files(static_cast<int64_t>(dirty.size()));
    closing->set_dirty_bytes(dirty_bytes);
    if (mode_ != v1::QUICK) {
      RETURN_IF_ERROR(FillDigests(root_fd_.get(), scan.entries, *cache_, env_.threads));
      absl::StatusOr<std::string> tree_hash = TreeHash(scan.entries);
      // A file that kept changing has no hash: the tree has no single hash then.
      if (tree_hash.ok()) closing->set_tree_hash(*tree_hash);
    }
    std::set<std::string> live;
    for (const TreeEntry& e : scan.entries) live.insert(e.path);
    cache_->Retain(live);
    // Heartbeats went on while the closing was built (a final round hashes the tree again); none
    // follows it.
    StopHeartbeats();
    if (!Write(response)) return absl::CancelledError("the target went away");
    return absl::OkStatus();
  }

  PullStream* const stream_;
  const PullSourceEnvironment& env_;
  v1::SyncMode mode_ = v1::SYNC_MODE_UNSPECIFIED;
  FileStateCache* cache_ = nullptr;
  int64_t epoch_ = 0;
  UniqueFd root_fd_;
  std::vector<TreeEntry> opening_;
  std::vector<std::thread> workers_;

  absl::Mutex write_mu_;
  std::atomic<bool> broken_{false};
  absl::Time last_write_ ABSL_GUARDED_BY(write_mu_) = absl::Now();

  absl::Mutex beat_mu_;
  bool stop_beating_ ABSL_GUARDED_BY(beat_mu_) = false;
  std::thread heartbeats_;

  absl::Mutex mu_;
  std::deque<std::pair<uint32_t, Pending>> queue_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  std::set<std::string> changed_during_read_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::Status ServePull(PullStream* stream, const PullSourceEnvironment& env) {
  SourceSession session(stream, env);
  return session.Run();
}

}  // namespace shadowplane::sync
