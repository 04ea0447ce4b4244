// The HTTP/1.1 server of one instance: serves the files of its data directory.
//   GET, HEAD            a file (streamed), or a directory as a newline-separated listing
//   PUT, DELETE          only when read-write; a PUT replaces the file atomically (readers see the
//                        old or the new file, never a torn one); when read-only, forwarded to
//                        `forward_writes_to` (the new primary after a traffic switch) if set,
//                        else 405; while `hold_writes` (a cutover's freeze), held until it is
//                        lifted, then handled as the new config says, or 503 with Retry-After
//                        after `write_hold_ms`
// Every answer names the instance that gave it (X-Shadowplane-Instance); a forwarded write's
// also names where it went (X-Shadowplane-Forwarded-To).
//   GET /_shadowplane/status   JSON: capacity, read-only, requests and bytes in and out
// Refuses path traversal with 400 and never serves or writes outside the data directory (symlinks
// leading out of it are 403). Concurrency (worker threads) and a request-rate limit (429 beyond
// it) follow the capacity and change with Reconfigure(). Thread-safe.
#ifndef SHADOWPLANE_INSTANCE_FILE_SERVER_H_
#define SHADOWPLANE_INSTANCE_FILE_SERVER_H_

#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "instance/instance_config.h"
#include "instance/resizable_thread_pool.h"
#include "instance/token_bucket.h"

namespace shadowplane::instance {

struct TrafficCounters {
  int64_t requests = 0;
  int64_t bytes_received = 0;
  int64_t bytes_sent = 0;
  int64_t rejected_rate_limited = 0;
  int64_t writes_held = 0;          // writes that waited for a freeze to lift
  int64_t writes_forwarded = 0;     // writes sent on to the new primary
  int64_t writes_hold_expired = 0;  // writes answered 503 after waiting write_hold_ms
};

class FileServer {
 public:
  FileServer(std::string data_dir, const InstanceConfig& config);
  ~FileServer();

  // Binds config.address:config.port. FAILED_PRECONDITION saying why when it cannot.
  absl::Status Bind();
  // Serves until Stop(). Call after Bind(). Returns at once if Stop() came first.
  void Serve();
  // From any thread, before or during Serve().
  void Stop();

  // New capacity, read-only mode or write routing, applied to requests that start after it
  // returns. A config that stops local writes (read-only, or a freeze) also waits for the writes
  // already admitted to finish, at most `drain_timeout`, so that nothing is written locally after
  // it returns: DEADLINE_EXCEEDED when they did not (the config still applies to new requests,
  // but its generation is not reported as applied).
  absl::Status Reconfigure(const InstanceConfig& config,
                           absl::Duration drain_timeout = absl::Seconds(30));
  // The generation of the last config fully applied (see InstanceConfig::generation).
  int64_t applied_generation() const;
  TrafficCounters counters() const;

 private:
  void HandleGet(const httplib::Request& req, httplib::Response& res);
  void HandlePut(const httplib::Request& req, httplib::Response& res,
                 const httplib::ContentReader& reader);
  void HandleDelete(const httplib::Request& req, httplib::Response& res);
  void HandleStatus(httplib::Response& res);
  // Admission: rate limit and, for writes, the freeze and read-only mode. False when `res` is
  // already answered; a write to forward gets `*forward_to` set. A write admitted to be applied
  // here is counted in flight until FinishLocalWrite().
  bool Admit(const httplib::Request& req, httplib::Response& res, bool write,
             std::string* forward_to = nullptr);
  // Sends a write on to `target` and answers with its answer (503 when it cannot be reached).
  void Forward(const httplib::Request& req, httplib::Response& res,
               const httplib::ContentReader* reader, const std::string& target);
  // The absolute path for the request, or an answered `res` (400/403).
  bool MapPath(const httplib::Request& req, httplib::Response& res, std::string* path,
               bool must_exist);
  void Count(const httplib::Request& req, const httplib::Response& res);
  // Marks the end of a local write that Admit() let in.
  void FinishLocalWrite();

  const std::string data_dir_;
  std::string real_data_dir_;
  httplib::Server http_;
  ResizableThreadPool pool_;
  TokenBucket limiter_;
  mutable absl::Mutex mu_;
  InstanceConfig config_ ABSL_GUARDED_BY(mu_);
  absl::CondVar config_changed_;                   // held writes wait on it
  int writes_in_flight_ ABSL_GUARDED_BY(mu_) = 0;  // admitted local writes not yet answered
  absl::CondVar write_finished_;                   // Reconfigure() waits on it to drain
  int64_t applied_generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;  // Serve() was called and not yet stopped
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int64_t> requests_{0};
  std::atomic<int64_t> bytes_received_{0};
  std::atomic<int64_t> bytes_sent_{0};
  std::atomic<int64_t> rate_limited_{0};
  std::atomic<int64_t> writes_held_{0};
  std::atomic<int64_t> writes_forwarded_{0};
  std::atomic<int64_t> hold_expired_{0};
};

}  // namespace shadowplane::instance

#endif  // SHADOWPLANE_INSTANCE_FILE_SERVER_H_
