#include "sync/signature_warmer.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sync/file_digests.h"
#include "sync/safe_path.h"
#include "sync/signature.h"

namespace shadowplane::sync {

SignatureWarmer::SignatureWarmer(std::function<void(size_t)> on_backlog)
    : on_backlog_(std::move(on_backlog)), thread_([this] { Loop(); }) {}

SignatureWarmer::~SignatureWarmer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void SignatureWarmer::Enqueue(const std::string& root_dir, FileStateCache* cache,
                              const std::vector<std::string>& paths) {
  size_t backlog;
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& path : paths) queue_.push_back(Job{root_dir, cache, path});
    backlog = queue_.size();
  }
  if (on_backlog_) on_backlog_(backlog);
}

void SignatureWarmer::Loop() {
  // Only this thread: the lowest priority, so that serving and syncing always come first.
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
  for (;;) {
    Job job;
    size_t backlog;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](SignatureWarmer* w) { return !w->queue_.empty() || w->stopping_; }, this));
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      backlog = queue_.size() + 1;
    }
    if (on_backlog_) on_backlog_(backlog);
    Sign(job);
    {
      absl::MutexLock lock(&mu_);
      backlog = queue_.size();
    }
    if (on_backlog_) on_backlog_(backlog);
  }
}

void SignatureWarmer::Sign(const Job& job) {
  absl::StatusOr<UniqueFd> root = OpenDirectory(job.root_dir);
  if (!root.ok()) return;
  absl::StatusOr<UniqueFd> fd = OpenFileBeneath(root->get(), job.path);
  if (!fd.ok()) return;  // gone since: nothing to warm
  struct stat st {};
  if (fstat(fd->get(), &st) != 0) return;
  FileIdentity identity = IdentityOf(st);
  if (job.cache->Signature(job.path, identity) != nullptr) return;
  absl::StatusOr<std::string> signature = SignFile(fd->get(), st.st_size);
  if (!signature.ok()) return;
  // Only if the file is still that version: a signature must describe the bytes it names.
  struct stat after {};
  if (fstat(fd->get(), &after) != 0 || IdentityOf(after) != identity) return;
  job.cache->PutSignature(job.path, identity, std::move(*signature));
}

}  // namespace shadowplane::sync
