// Signs files in the background, at the lowest CPU priority, so that the next sync round finds
// their basis signatures cached instead of computing them on its critical path. A target agent
// hands it the files a round rebuilt; between rounds (the usual case: shadows sync every minute)
// it has all the time it needs. A round that starts before it is done just signs what is still
// missing itself. Thread-safe.
#ifndef SHADOWPLANE_SYNC_SIGNATURE_WARMER_H_
#define SHADOWPLANE_SYNC_SIGNATURE_WARMER_H_

#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sync/file_state_cache.h"

namespace shadowplane::sync {

class SignatureWarmer {
 public:
  // `on_backlog` (may be empty) is told the number of files waiting whenever it changes.
  explicit SignatureWarmer(std::function<void(size_t)> on_backlog = nullptr);
  ~SignatureWarmer();
  SignatureWarmer(const SignatureWarmer&) = delete;
  SignatureWarmer& operator=(const SignatureWarmer&) = delete;

  // Signs `paths` of the tree at `root_dir` into `cache` (which must outlive this warmer).
  void Enqueue(const std::string& root_dir, FileStateCache* cache,
               const std::vector<std::string>& paths);

 private:
  struct Job {
    std::string root_dir;
    FileStateCache* cache;
    std::string path;
  };
  void Loop();
  void Sign(const Job& job);

  std::function<void(size_t)> on_backlog_;
  absl::Mutex mu_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace shadowplane::sync

#endif  // SHADOWPLANE_SYNC_SIGNATURE_WARMER_H_
