// One librsync streaming job (rs_job_t) driven with our own buffers: the only place that calls
// rs_job_iter. librsync's whole-file helpers read through stdio in 4 KiB pieces; feeding the job
// large buffers ourselves is what makes signature, delta and patch run at memory speed, and keeps
// memory bounded whatever the file size (nothing here holds more than one output buffer).
// Not thread-safe; one job per stream.
#ifndef SHADOWPLANE_SYNC_RSYNC_JOB_H_
#define SHADOWPLANE_SYNC_RSYNC_JOB_H_

#include <librsync.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"

namespace shadowplane::sync {

// Receives a job's output as it is produced.
using ByteSink = std::function<absl::Status(const char* data, size_t size)>;

struct RsJobDeleter {
  void operator()(rs_job_t* job) const { rs_job_free(job); }
};
struct RsSignatureDeleter {
  void operator()(rs_signature_t* sig) const { rs_free_sumset(sig); }
};
using RsJobPtr = std::unique_ptr<rs_job_t, RsJobDeleter>;
using RsSignaturePtr = std::unique_ptr<rs_signature_t, RsSignatureDeleter>;

// librsync's result as a status: corrupt or truncated input is DATA_LOSS, out of memory
// RESOURCE_EXHAUSTED, anything else INTERNAL; `what` names the job.
absl::Status StatusFromRsResult(rs_result result, const char* what);

class RsJob {
 public:
  // Takes ownership of `job`. `what` names it in errors ("delta", "patch", ...).
  RsJob(rs_job_t* job, const char* what, size_t output_buffer = 256 << 10);

  // Feeds `size` bytes; `eof` says no more input follows. Output goes to `sink` as produced.
  // After eof, the job must finish: input that ends early is DATA_LOSS ("truncated").
  absl::Status Feed(const char* data, size_t size, bool eof, const ByteSink& sink);
  bool done() const { return done_; }
  const rs_stats_t& stats() const { return *rs_job_statistics(job_.get()); }

 private:
  RsJobPtr job_;
  const char* what_;
  std::vector<char> out_;
  bool done_ = false;
};

}  // namespace shadowplane::sync

#endif  // SHADOWPLANE_SYNC_RSYNC_JOB_H_
