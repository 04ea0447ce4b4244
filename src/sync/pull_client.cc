#include "sync/pull_client.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/agent_protocol.h"
#include "common/grpc_client_status.h"
#include "common/status_macros.h"
#include "common/worker_pool.h"
#include "shadowplane/agent/v1/sync.grpc.pb.h"
#include "sync/file_digests.h"
#include "sync/file_identity.h"
#include "sync/patch_applier.h"
#include "sync/safe_path.h"
#include "sync/signature.h"
#include "sync/tree.h"
#include "sync/tree_ops.h"

namespace shadowplane::sync {

namespace v1 = shadowplane::agent::v1;

namespace {

constexpr size_t kSignaturePiece = 256 << 10;

EntryKind LocalKind(v1::EntryKind kind) {
  switch (kind) {
    case v1::DIRECTORY:
      return EntryKind::kDirectory;
    case v1::SYMLINK:
      return EntryKind::kSymlink;
    default:
      return EntryKind::kFile;
  }
}

// The signature of an empty basis, which every new file sends: made once.
absl::StatusOr<std::shared_ptr<const std::string>> EmptySignature() {
  static const auto* const kEmpty = new absl::StatusOr<std::shared_ptr<const std::string>>(
      []() -> absl::StatusOr<std::shared_ptr<const std::string>> {
        SignatureBuilder builder(0);
        ASSIGN_OR_RETURN(std::string sig, builder.Finish());
        return std::make_shared<const std::string>(std::move(sig));
      }());
  return *kEmpty;
}

// One file being transferred.
struct Transfer {
  const TreeEntry* source = nullptr;
  std::string basis_path;  // empty: no basis
};

// A basis signature ready to send, and the basis it was made from.
struct PreparedBasis {
  UniqueFd basis;
  std::shared_ptr<const std::string> signature;
  bool cached = false;
};

class TargetSession {
 public:
  explicit TargetSession(const PullOptions& options)
      : options_(options),
        stub_(v1::SyncService::NewStub(options.channel)),
        // One committer per file in flight: fsyncs issued together share the file system's
        // journal commits, where two committers made a final round of a few small files wait
        // for one fsync after another.
        committers_("sync-commit", std::max(2, options.window), 1 << 20) {}

  absl::StatusOr<v1::SyncFromResponse> Run() {
    absl::Time start = absl::Now();
    context_.set_deadline(absl::ToChronoTime(start + options_.timeout));
    context_.AddMetadata(kAgentProtocolMetadataKey, absl::StrCat(kAgentProtocolVersion));
    ASSIGN_OR_RETURN(root_fd_, OpenDirectory(options_.target_dir));
    stream_ = stub_->Pull(&context_);
    Heard(false);
    std::thread watchdog([this] { WatchForStall(); });
    absl::Cleanup stop_watching = [&] {
      {
        absl::MutexLock lock(&watch_mu_);
        watch_done_ = true;
      }
      watchdog.join();
    };

    v1::PullRequest open;
    open.mutable_open()->set_instance_id(options_.source_instance_id);
    open.mutable_open()->set_mode(options_.mode);
    Send(open);

    absl::Status status = Exchange();
    if (!status.ok()) {
      bool ended_early = false;
      {
        absl::MutexLock lock(&mu_);
        ended_early = ended_early_;
      }
      if (!ended_early) context_.TryCancel();
      if (receiver_.joinable()) receiver_.join();
      grpc::Status finish = stream_->Finish();
      if (stalled_) {
        return absl::UnavailableError(
            absl::StrCat("the source sent nothing, not even a heartbeat, for ",
                         absl::FormatDuration(options_.stall_timeout), ": the round was given up"));
      }
      // When the source ended the stream, its status says why better than ours.
      if (ended_early && !finish.ok()) return FromGrpcStatus(finish, "pull from the source agent");
      return status;
    }
    grpc::Status finish = stream_->Finish();
    if (!finish.ok() && stalled_) {
      return absl::UnavailableError("the source went silent after its closing");
    }
    if (!finish.ok()) return FromGrpcStatus(finish, "pull from the source agent");
    RETURN_IF_ERROR(finished_tree_);

    stats_.set_duration_seconds(absl::ToDoubleSeconds(absl::Now() - start));
    v1::SyncFromResponse response;
    *response.mutable_stats() = stats_;
    // The source's dirty set: what changed during the round, including every file whose delta it
    // reported as changed while read.
    {
      absl::MutexLock lock(&mu_);
      *response.mutable_dirty() = closing_.dirty();
      response.set_dirty_files(closing_.dirty_files());
      response.set_dirty_bytes(closing_.dirty_bytes());
    }
    response.set_source_tree_hash(closing_.tree_hash());
    response.set_target_tree_hash(target_tree_hash_);
    return response;
  }

 private:
  // Something arrived from the source; `heartbeat`: a heartbeat, which arms the stall check.
  void Heard(bool heartbeat) {
    absl::MutexLock lock(&watch_mu_);
    last_heard_ = absl::Now();
    if (heartbeat) heartbeats_seen_ = true;
  }

  // Cancels the call once a source that sends heartbeats has been silent for the stall timeout.
  // A source of protocol 1 sends none, and only the round's deadline bounds it.
  void WatchForStall() {
    absl::MutexLock lock(&watch_mu_);
    while (!watch_done_) {
      const absl::Time due = last_heard_ + options_.stall_timeout;
      if (heartbeats_seen_ && absl::Now() >= due) {
        stalled_ = true;
        context_.TryCancel();
        return;
      }
      watch_mu_.AwaitWithDeadline(absl::Condition(&watch_done_),
                                  std::min(due, absl::Now() + absl::Seconds(1)));
    }
  }

  void Send(const v1::PullRequest& request) {
    {
      absl::MutexLock lock(&mu_);  // the receiver adds what it reads to the same counter
      stats_.set_bytes_wire(stats_.bytes_wire() + request.ByteSizeLong());
    }
    stream_->Write(request);
  }

  absl::Status Exchange() {
    // The target's own tree is read while the source reads its tree and sends the manifest: at a
    // cutover, both reads are inside the write freeze.
    absl::StatusOr<TreeScan> local = absl::UnknownError("not scanned");
    std::thread scanner([this, &local] {
      local = ScanTree(root_fd_.get());
      if (local.ok() && options_.mode != v1::QUICK) {
        absl::Status digested =
            FillDigests(root_fd_.get(), local->entries, *options_.cache, options_.threads);
        if (!digested.ok()) local = digested;
      }
    });
    const absl::Status manifest = ReceiveManifest();
    scanner.join();
    RETURN_IF_ERROR(manifest);
    RETURN_IF_ERROR(CheckEpochs());
    ASSIGN_OR_RETURN(TreeScan scan, std::move(local));
    for (const std::string& temp : scan.temporaries)
      RETURN_IF_ERROR(RemovePath(root_fd_.get(), temp));
    target_ = std::move(scan.entries);
    for (TreeEntry& e : target_) target_by_path_[e.path] = &e;
    RETURN_IF_ERROR(ApplyStructure());
    ChooseRenameBases();
    receiver_ = std::thread([this] { Receive(); });
    absl::Status sent = SendTransfers();
    {
      absl::MutexLock lock(&mu_);
      if (!sent.ok() && failure_.ok()) failure_ = sent;
      mu_.Await(absl::Condition(
          +[](TargetSession* s) { return s->in_flight_.empty() || !s->failure_.ok(); }, this));
      if (!failure_.ok()) return failure_;
    }
    v1::PullRequest finish;
    finish.mutable_finish();
    {
      absl::MutexLock lock(&mu_);
      finish_sent_ = true;
    }
    Send(finish);
    stream_->WritesDone();
    // Every file is committed: the target's own finish (deletions, directories, its tree hash)
    // needs only the manifest, so it runs while the source scans its tree for the closing. At a
    // cutover both are inside the write freeze. Should the closing not come, the round fails; what
    // was done here follows the validated manifest and is redone by the next round.
    absl::Status epochs = CheckEpochs();
    finished_tree_ = epochs.ok() ? FinishTree() : epochs;
    receiver_.join();
    absl::MutexLock lock(&mu_);
    if (!failure_.ok()) return failure_;
    if (!closed_) return absl::UnavailableError("the source ended the stream without closing");
    return absl::OkStatus();
  }

  // A stale primary (one whose resource has since been handed to another instance) never
  // overwrites the instance that took over: a target granted writes in a newer epoch than the
  // source's refuses the round. And nothing overwrites an instance that takes writes but a source
  // holding a newer epoch than it.
  absl::Status CheckEpochs() const {
    if (!options_.target_epoch) return absl::OkStatus();
    ASSIGN_OR_RETURN(int64_t target, options_.target_epoch());
    const int64_t source = source_epoch_.value_or(0);
    if (target > source) {
      return absl::FailedPreconditionError(
          absl::StrCat("the target instance holds epoch ", target, ", newer than the source's ",
                       source, ": a stale primary never overwrites the instance that took over"));
    }
    if (options_.target_writable) {
      ASSIGN_OR_RETURN(const bool writable, options_.target_writable());
      if (writable && target >= source) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the target instance takes writes in epoch ", target,
            " and the source holds no newer one: a round would overwrite what its clients wrote"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status ReceiveManifest() {
    v1::PullResponse response;
    for (;;) {
      Heard(false);  // only the wait for the next message counts toward a stall
      if (!stream_->Read(&response)) {
        absl::MutexLock lock(&mu_);
        ended_early_ = true;  // Run() finishes the call and reports the source's status
        return absl::UnavailableError("the source ended the stream before its manifest");
      }
      stats_.set_bytes_wire(stats_.bytes_wire() + response.ByteSizeLong());
      Heard(response.has_heartbeat());
      if (response.has_heartbeat()) continue;
      if (!response.has_manifest()) {
        return absl::InvalidArgumentError("the source sent data before its manifest ended");
      }
      if (!source_epoch_.has_value()) source_epoch_ = response.manifest().source_epoch();
      if (response.manifest().source_epoch() != *source_epoch_) {
        return absl::InvalidArgumentError("the source's epoch changed within its manifest");
      }
      for (const v1::Entry& entry : response.manifest().entries()) {
        RETURN_IF_ERROR(ValidateManifestEntry(entry));
        manifest_path_bytes_ +=
            static_cast<int64_t>(entry.path().size() + entry.link_target().size());
        if (static_cast<int64_t>(source_.size()) >= options_.limits.max_manifest_entries ||
            manifest_path_bytes_ > options_.limits.max_manifest_path_bytes) {
          return absl::ResourceExhaustedError(
              absl::StrCat("the source's manifest exceeds ", options_.limits.max_manifest_entries,
                           " entries or ", options_.limits.max_manifest_path_bytes,
                           " bytes of paths and link targets"));
        }
        TreeEntry e;
        e.path = entry.path();
        e.kind = LocalKind(entry.kind());
        e.mode = entry.mode() & kSyncedModeBits;
        e.identity.size = entry.size();
        e.identity.mtime_ns = entry.mtime_ns();
        e.link_target = entry.link_target();
        if (!entry.sha256().empty()) {
          ASSIGN_OR_RETURN(Digest d, DigestFromBytes(entry.sha256()));
          e.sha256 = d;
        }
        source_.push_back(std::move(e));
      }
      if (response.manifest().last()) break;
    }
    std::sort(source_.begin(), source_.end(),
              [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
    for (const TreeEntry& e : source_) {
      if (!source_by_path_.emplace(e.path, &e).second) {
        return absl::InvalidArgumentError(absl::StrCat("manifest lists ", e.path, " twice"));
      }
      auto [parent, name] = SplitParent(e.path);
      if (!parent.empty()) {
        auto it = source_by_path_.find(std::string(parent));
        if (it == source_by_path_.end() || it->second->kind != EntryKind::kDirectory) {
          return absl::InvalidArgumentError(absl::StrCat(
              "manifest entry ", e.path, ": its parent is not a directory of the source tree"));
        }
      }
      if (e.kind == EntryKind::kFile) {
        stats_.set_files_total(stats_.files_total() + 1);
        stats_.set_bytes_total(stats_.bytes_total() + e.identity.size);
      }
    }
    return absl::OkStatus();
  }

  bool InScope(const std::string& path) const {
    if (options_.mode != v1::FINAL || options_.paths.empty()) return true;
    return scope_.count(path) > 0;
  }

  void ForgetTarget(const std::string& path) {
    auto it = target_by_path_.lower_bound(path);
    while (it != target_by_path_.end() &&
           (it->first == path || it->first.compare(0, path.size() + 1, path + "/") == 0)) {
      it = target_by_path_.erase(it);
    }
  }

  // Directories, links, kind changes and metadata-only changes; collects the files to transfer.
  absl::Status ApplyStructure() {
    for (const TreeEntry& s : source_) {
      if (!InScope(s.path) && s.kind != EntryKind::kDirectory) continue;
      auto it = target_by_path_.find(s.path);
      const TreeEntry* t = it == target_by_path_.end() ? nullptr : it->second;
      if (t != nullptr && t->kind != s.kind) {
        RETURN_IF_ERROR(RemovePath(root_fd_.get(), s.path));
        ForgetTarget(s.path);
        t = nullptr;
      }
      switch (s.kind) {
        case EntryKind::kDirectory:
          if (t == nullptr) {
            RETURN_IF_ERROR(MakeDirectory(root_fd_.get(), s.path));
            stats_.set_directories_created(stats_.directories_created() + 1);
            // Its entry in the parent is made durable with the round's other directory changes.
            touched_dirs_.insert(std::string(SplitParent(s.path).first));
          }
          break;
        case EntryKind::kSymlink:
          if (t == nullptr || t->link_target != s.link_target) {
            RETURN_IF_ERROR(PlaceSymlink(root_fd_.get(), s.path, s.link_target));
            RETURN_IF_ERROR(SetMetadata(root_fd_.get(), s.path, true, 0, s.identity.mtime_ns));
            stats_.set_files_metadata(stats_.files_metadata() + 1);
            touched_dirs_.insert(std::string(SplitParent(s.path).first));
          } else if (t->identity.mtime_ns != s.identity.mtime_ns) {
            RETURN_IF_ERROR(SetMetadata(root_fd_.get(), s.path, true, 0, s.identity.mtime_ns));
          }
          break;
        case EntryKind::kFile: {
          bool differs;
          if (t == nullptr) {
            differs = true;
          } else if (options_.mode == v1::QUICK) {
            differs =
                t->identity.size != s.identity.size || t->identity.mtime_ns != s.identity.mtime_ns;
          } else {
            differs = !t->sha256.has_value() || !s.sha256.has_value() || *t->sha256 != *s.sha256;
          }
          if (differs) {
            transfers_.push_back(Transfer{&s, t == nullptr ? "" : s.path});
          } else if (t->mode != s.mode || t->identity.mtime_ns != s.identity.mtime_ns) {
            RETURN_IF_ERROR(
                SetMetadata(root_fd_.get(), s.path, false, s.mode, s.identity.mtime_ns));
            stats_.set_files_metadata(stats_.files_metadata() + 1);
          }
          break;
        }
      }
    }
    return absl::OkStatus();
  }

  // A new file with no basis of its own may be a renamed one: use a file the source no longer
  // has, of the same size (and content, when both hashes are known), as its basis.
  void ChooseRenameBases() {
    std::multimap<int64_t, const TreeEntry*> leaving;
    for (const TreeEntry& t : target_) {
      if (t.kind == EntryKind::kFile && source_by_path_.count(t.path) == 0 &&
          target_by_path_.count(t.path) > 0 && InScope(t.path)) {
        leaving.emplace(t.identity.size, &t);
      }
    }
    for (Transfer& transfer : transfers_) {
      if (!transfer.basis_path.empty()) continue;
      auto [lo, hi] = leaving.equal_range(transfer.source->identity.size);
      for (auto it = lo; it != hi; ++it) {
        const TreeEntry* candidate = it->second;
        if (transfer.source->sha256.has_value() && candidate->sha256.has_value() &&
            *transfer.source->sha256 != *candidate->sha256) {
          continue;
        }
        transfer.basis_path = candidate->path;
        break;
      }
    }
  }

  absl::StatusOr<PreparedBasis> PrepareBasis(const Transfer& transfer) {
    PreparedBasis prepared;
    if (transfer.basis_path.empty()) {
      ASSIGN_OR_RETURN(prepared.signature, EmptySignature());
      return prepared;
    }
    absl::StatusOr<UniqueFd> fd = OpenFileBeneath(root_fd_.get(), transfer.basis_path);
    if (!fd.ok()) {
      // The basis went away or is no regular file: transfer the whole file instead.
      Transfer none{transfer.source, ""};
      return PrepareBasis(none);
    }
    struct stat st {};
    if (fstat(fd->get(), &st) != 0) return absl::InternalError("stat of a basis failed");
    FileIdentity identity = IdentityOf(st);
    prepared.signature = options_.cache->Signature(transfer.basis_path, identity);
    prepared.cached = prepared.signature != nullptr;
    if (!prepared.cached) {
      ASSIGN_OR_RETURN(std::string sig, SignFile(fd->get(), st.st_size));
      options_.cache->PutSignature(transfer.basis_path, identity, sig);
      prepared.signature = std::make_shared<const std::string>(std::move(sig));
    }
    prepared.basis = std::move(*fd);
    return prepared;
  }

  struct InFlight {
    const TreeEntry* source = nullptr;
    UniqueFd dir;  // before the applier, which removes its temporary file through it
    std::unique_ptr<PatchApplier> applier;
    absl::Status error;
    bool ended = false;  // its end arrived: nothing more of it may
  };

  absl::Status SendTransfers() {
    // Basis signatures are computed ahead on `threads` threads; the stream gets them in order.
    std::deque<std::future<absl::StatusOr<PreparedBasis>>> ahead;
    size_t next = 0;
    auto fill = [&] {
      while (next < transfers_.size() && ahead.size() < static_cast<size_t>(options_.threads)) {
        const Transfer* t = &transfers_[next++];
        ahead.push_back(std::async(std::launch::async, [this, t] { return PrepareBasis(*t); }));
      }
    };
    fill();
    for (size_t i = 0; i < transfers_.size(); ++i) {
      absl::StatusOr<PreparedBasis> prepared = ahead.front().get();
      ahead.pop_front();
      fill();
      RETURN_IF_ERROR(prepared.status());
      const TreeEntry* source = transfers_[i].source;
      auto [parent, name] = SplitParent(source->path);
      InFlight flight;
      flight.source = source;
      ASSIGN_OR_RETURN(flight.dir, OpenDirectoryBeneath(root_fd_.get(), parent));
      ASSIGN_OR_RETURN(
          flight.applier,
          PatchApplier::Begin(flight.dir.get(), std::string(name), std::move(prepared->basis),
                              MaxRebuiltSize(options_.limits, source->identity.size)));
      uint32_t id = static_cast<uint32_t>(i + 1);
      const std::string& sig = *prepared->signature;
      {
        absl::MutexLock lock(&mu_);
        if (prepared->cached) stats_.set_signatures_cached(stats_.signatures_cached() + 1);
        stats_.set_bytes_signature(stats_.bytes_signature() + sig.size());
        mu_.Await(absl::Condition(
            +[](TargetSession* s) {
              // Files waiting for their commit hold descriptors: bound them too.
              return (s->awaiting_end_ < static_cast<size_t>(s->options_.window) &&
                      s->in_flight_.size() < static_cast<size_t>(s->options_.window) + 64) ||
                     !s->failure_.ok();
            },
            this));
        if (!failure_.ok()) return failure_;
        in_flight_.emplace(id, std::move(flight));
        ++awaiting_end_;
      }
      size_t offset = 0;
      do {
        v1::PullRequest request;
        v1::FileRequest* file = request.mutable_file();
        file->set_file_id(id);
        if (offset == 0) file->set_path(source->path);
        size_t n = std::min(kSignaturePiece, sig.size() - offset);
        file->set_signature(sig.substr(offset, n));
        offset += n;
        file->set_last(offset >= sig.size());
        Send(request);
      } while (offset < sig.size());
    }
    return absl::OkStatus();
  }

  void Fail(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (failure_.ok()) failure_ = std::move(status);
  }

  void Receive() {
    v1::PullResponse response;
    // Only the wait for the next message counts toward a stall, not the patching of the last one
    // (a COPY of a large basis range may take a while).
    while ((Heard(false), stream_->Read(&response))) {
      int64_t wire = response.ByteSizeLong();
      Heard(response.has_heartbeat());
      absl::MutexLock lock(&mu_);
      stats_.set_bytes_wire(stats_.bytes_wire() + wire);
      if (response.has_heartbeat()) continue;
      if (response.has_closing()) {
        // An honest source closes only after the target's finish, which comes once every file
        // asked for has ended: a closing before it would leave those files waited for.
        if (!finish_sent_) {
          Fail(absl::InvalidArgumentError(
              absl::StrCat("the source closed the round before the target finished asking (",
                           awaiting_end_, " files it was asked for unfinished)")));
          return;
        }
        closing_ = response.closing();
        closed_ = true;
        continue;
      }
      if (!response.has_delta() && !response.has_file_end()) {
        Fail(absl::InvalidArgumentError("the source sent a message of no known kind"));
        return;
      }
      uint32_t id =
          response.has_delta() ? response.delta().file_id() : response.file_end().file_id();
      auto it = in_flight_.find(id);
      if (it == in_flight_.end()) {
        Fail(
            absl::InvalidArgumentError(absl::StrCat("the source sent data for unknown file ", id)));
        return;
      }
      InFlight& flight = it->second;
      if (flight.ended) {
        // A second commit would race the first on one applier, or find the file gone.
        Fail(absl::InvalidArgumentError(
            absl::StrCat("the source sent more of file ", id, " after its end")));
        return;
      }
      if (response.has_delta()) {
        // Patching runs with mu_ released: it is the slow part, and the sender only needs the
        // lock to add files.
        const std::string& data = response.delta().data();
        PatchApplier* applier = flight.applier.get();
        if (!flight.error.ok()) continue;
        mu_.Unlock();
        absl::Status s = applier->Feed(data.data(), data.size());
        mu_.Lock();
        if (!s.ok()) it->second.error = s;
        continue;
      }
      // Verifying, fsyncing and renaming wait for the disk: the committers do that while this
      // thread goes on patching. The file stays in flight until then, but frees its window slot.
      --awaiting_end_;
      flight.ended = true;
      absl::Status submitted = committers_.Submit([this, id, end = response.file_end()] {
        absl::Status s;
        {
          absl::MutexLock lock(&mu_);
          s = failure_;
        }
        InFlight* flight = nullptr;
        {
          absl::MutexLock lock(&mu_);
          // Ended once (Receive refuses a second end), so still in flight; map nodes stay put.
          auto it = in_flight_.find(id);
          if (it == in_flight_.end()) return;
          flight = &it->second;
        }
        if (s.ok()) s = FinishFile(*flight, end);
        absl::MutexLock lock(&mu_);
        in_flight_.erase(id);
        if (!s.ok()) Fail(s);
      });
      if (!submitted.ok()) {
        Fail(submitted);
        return;
      }
    }
    // Every way out of this loop but a closing (which comes only after the target's finish, when
    // no file is waited for) records a failure, so the waits for files end.
    absl::MutexLock lock(&mu_);
    if (!closed_) {
      ended_early_ = true;
      Fail(absl::UnavailableError("the source ended the stream before closing it"));
    }
  }

  absl::Status FinishFile(InFlight& flight, const v1::FileEnd& end) {
    const std::string& path = flight.source->path;
    // The source changed under the delta: keep the old version. The source lists the file in its
    // dirty set, and the next round retries it.
    if (end.changed()) return absl::OkStatus();
    RETURN_IF_ERROR(flight.error);
    ASSIGN_OR_RETURN(Digest sha256, DigestFromBytes(end.sha256()));
    ASSIGN_OR_RETURN(RebuiltFile rebuilt,
                     flight.applier->Commit(sha256, end.size(), end.mode(), end.mtime_ns()));
    options_.cache->Put(path, rebuilt.identity, rebuilt.sha256);
    absl::MutexLock lock(&mu_);
    if (options_.unsigned_files != nullptr) options_.unsigned_files->push_back(path);
    rebuilt_.insert(path);
    touched_dirs_.insert(std::string(SplitParent(path).first));
    stats_.set_files_transferred(stats_.files_transferred() + 1);
    stats_.set_bytes_literal(stats_.bytes_literal() + end.bytes_literal());
    stats_.set_bytes_matched(stats_.bytes_matched() + end.bytes_matched());
    return absl::OkStatus();
  }

  // Deletions, directory modes and times, durability, and the target's tree hash.
  absl::Status FinishTree() {
    // Every commit is done: what they recorded is read once, under the lock.
    std::set<std::string> touched_dirs;
    std::set<std::string> rebuilt;
    {
      absl::MutexLock lock(&mu_);
      touched_dirs = touched_dirs_;
      rebuilt = rebuilt_;
    }
    for (auto it = target_.rbegin(); it != target_.rend(); ++it) {
      if (source_by_path_.count(it->path) > 0 || target_by_path_.count(it->path) == 0 ||
          !InScope(it->path)) {
        continue;
      }
      RETURN_IF_ERROR(RemovePath(root_fd_.get(), it->path));
      if (it->kind == EntryKind::kFile) {
        absl::MutexLock lock(&mu_);  // the receiver counts the closing's bytes meanwhile
        stats_.set_files_deleted(stats_.files_deleted() + 1);
      }
      touched_dirs.insert(std::string(SplitParent(it->path).first));
    }
    for (auto it = source_.rbegin(); it != source_.rend(); ++it) {
      if (it->kind != EntryKind::kDirectory) continue;
      auto t = target_by_path_.find(it->path);
      if (t != target_by_path_.end() && t->second->mode == it->mode &&
          t->second->identity.mtime_ns == it->identity.mtime_ns &&
          touched_dirs.count(it->path) == 0) {
        continue;
      }
      RETURN_IF_ERROR(
          SetMetadata(root_fd_.get(), it->path, false, it->mode, it->identity.mtime_ns));
    }
    for (const std::string& dir : touched_dirs) {
      absl::Status s = SyncDirectory(root_fd_.get(), dir);
      if (!s.ok() && !absl::IsNotFound(s)) return s;
    }
    // Files kept as they were and never signed: worth signing before the next round.
    if (options_.unsigned_files != nullptr) {
      absl::MutexLock lock(&mu_);  // unsigned_files is shared with the committers' records
      for (const TreeEntry& t : target_) {
        if (t.kind == EntryKind::kFile && source_by_path_.count(t.path) > 0 &&
            rebuilt.count(t.path) == 0 &&
            options_.cache->Signature(t.path, t.identity) == nullptr) {
          options_.unsigned_files->push_back(t.path);
        }
      }
    }
    // The target now mirrors the source's manifest: forget files that are gone.
    std::set<std::string> live;
    for (const TreeEntry& e : source_) live.insert(e.path);
    options_.cache->Retain(live);
    if (options_.mode != v1::QUICK) {
      ASSIGN_OR_RETURN(TreeScan scan, ScanTree(root_fd_.get()));
      RETURN_IF_ERROR(FillDigests(root_fd_.get(), scan.entries, *options_.cache, options_.threads));
      absl::StatusOr<std::string> hash = TreeHash(scan.entries);
      if (hash.ok()) target_tree_hash_ = *hash;
    }
    return absl::OkStatus();
  }

  const PullOptions& options_;
  std::unique_ptr<v1::SyncService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::PullRequest, v1::PullResponse>> stream_;
  UniqueFd root_fd_;
  // A FINAL round's paths, looked up once per manifest entry.
  const std::set<std::string> scope_{options_.paths.begin(), options_.paths.end()};
  std::vector<TreeEntry> source_;
  int64_t manifest_path_bytes_ = 0;
  std::map<std::string, const TreeEntry*> source_by_path_;
  std::vector<TreeEntry> target_;
  std::map<std::string, TreeEntry*> target_by_path_;
  std::vector<Transfer> transfers_;
  std::string target_tree_hash_;
  absl::Status finished_tree_ = absl::UnknownError("the tree was not finished");
  std::optional<int64_t> source_epoch_;  // from the manifest
  std::thread receiver_;
  // Declared after everything its tasks touch, so that it drains first on destruction.

  absl::Mutex watch_mu_;
  absl::Time last_heard_ ABSL_GUARDED_BY(watch_mu_);
  bool heartbeats_seen_ ABSL_GUARDED_BY(watch_mu_) = false;
  bool watch_done_ ABSL_GUARDED_BY(watch_mu_) = false;
  std::atomic<bool> stalled_{false};

  absl::Mutex mu_;
  v1::SyncStats stats_ ABSL_GUARDED_BY(mu_);
  // Files from their signature until committed; the window counts only those whose delta has
  // not ended yet, so that waiting for the disk (fsync) never stalls the transfer.
  std::map<uint32_t, InFlight> in_flight_ ABSL_GUARDED_BY(mu_);
  size_t awaiting_end_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<std::string> touched_dirs_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> rebuilt_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  v1::Closing closing_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_sent_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_early_ ABSL_GUARDED_BY(mu_) = false;
  WorkerPool committers_;
};

}  // namespace

absl::Status ValidateManifestEntry(const v1::Entry& entry) {
  RETURN_IF_ERROR(ValidateRelativePath(entry.path()));
  if (entry.kind() != v1::FILE && entry.kind() != v1::DIRECTORY && entry.kind() != v1::SYMLINK) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest entry ", entry.path(), ": unknown kind"));
  }
  if (entry.kind() == v1::SYMLINK &&
      (entry.link_target().empty() || entry.link_target().find('\0') != std::string::npos)) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest entry ", entry.path(), ": bad link target"));
  }
  if (entry.size() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest entry ", entry.path(), ": negative size"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::SyncFromResponse> PullTree(const PullOptions& options) {
  if (options.cache == nullptr || options.channel == nullptr) {
    return absl::InvalidArgumentError("PullTree needs a channel and a cache");
  }
  TargetSession session(options);
  return session.Run();
}

}  // namespace shadowplane::sync
