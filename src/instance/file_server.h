// The HTTP/1.1 server of one instance: serves the files of its data directory.
//   GET, HEAD            a file (streamed), or a directory as a newline-separated listing
//   PUT, DELETE          only when read-write; a PUT replaces the file atomically (readers see the
//                        old or the new file, never a torn one) and is on disk (fsync) when
//                        answered; when read-only, forwarded to `forward_writes_to` (the new
//                        primary after a traffic switch) if set, else 405; while `hold_writes` (a
//                        cutover's freeze), held until it is lifted, then handled as the new config
//                        says, or 503 with Retry-After after `write_hold_ms`
// A request that says it was forwarded (X-Shadowplane-Forwarded-By) must be signed with the
// resource's secret, and the views that name clients need the agent's key: 403 otherwise
// (instance/forward_auth.h).
// Every answer names the instance that gave it (X-Shadowplane-Instance); a forwarded write's
// also names where it went (X-Shadowplane-Forwarded-To), a write applied here when it was
// (X-Shadowplane-Applied-At, Unix microseconds).
//
// Fencing: a read-write instance applies a write only while its write lease holds
// (InstanceConfig::write_lease_until_ms, renewed by its agent from the control plane), checked when
// the write is admitted and again just before it is applied; otherwise 503 with Retry-After. So an
// instance cut off from the control plane stops taking writes by itself.
//   GET /_shadowplane/status   JSON: capacity, read-only, requests, bytes, connections
//   GET /_shadowplane/disruptions?since_us=T   JSON: per client, what a move did to it since T
//                        (instance/disruption_log.h); the agent's key required
//   GET /_shadowplane/accesses?after=N   the access log (instance/access_log.h); the agent's key
//                        required
// During a freeze reads are held as well as writes, and an old primary that forwards passes GETs
// on too (files up to 16 MiB), so that no client reads data lacking a write it made at the new
// primary; an answer held says for how long (X-Shadowplane-Held-Ms), one forwarded names who
// served it (X-Shadowplane-Served-By).
// Refuses path traversal with 400 and never serves or writes outside the data directory (symlinks
// leading out of it, and absolute symlinks, are 403; on kernels without openat2(), before 5.6, an
// absolute symlink that stays inside is followed).
//
// Connections are event-driven (http_server.h): an open or idle connection costs no worker. The
// capacity bounds work, not connections: the number of requests worked on at once and a
// request-rate limit (429 beyond it) follow it and change with Reconfigure().
//
// The write freeze: a write is admitted to be applied here only once its whole body has arrived
// (into a temporary file in the spool directory); applying it is the fsync and rename. So a
// freeze waits only for writes being applied on disk, never for a client still sending. Held
// writes wait without a worker. Thread-safe.
#ifndef SHADOWPLANE_INSTANCE_FILE_SERVER_H_
#define SHADOWPLANE_INSTANCE_FILE_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "instance/access_log.h"
#include "instance/disruption_log.h"
#include "instance/http_server.h"
#include "instance/instance_config.h"
#include "instance/token_bucket.h"

namespace shadowplane::instance {

struct TrafficCounters {
  int64_t requests = 0;
  int64_t bytes_received = 0;
  int64_t bytes_sent = 0;
  int64_t rejected_rate_limited = 0;
  int64_t writes_held = 0;                   // writes that waited for a freeze to lift
  int64_t writes_forwarded = 0;              // writes sent on to the new primary
  int64_t writes_hold_expired = 0;           // writes answered 503 after waiting write_hold_ms
  int64_t writes_refused_without_lease = 0;  // 503: read-write, but the write lease ran out
  // Self-monitoring: requests recorded, and X-Forwarded-For headers ignored because the peer was
  // not a trusted proxy, or because a trusted proxy's named no address.
  int64_t accesses_recorded = 0;
  int64_t forwarded_for_untrusted = 0;
  int64_t forwarded_for_malformed = 0;
  // 403: a request that said it was forwarded without the resource's signature, or asked for a
  // view of the agent's without its key (instance/forward_auth.h).
  int64_t refused_unauthenticated = 0;
  // 508: a forwarded request this instance would have passed on again (a forwarding loop).
  int64_t refused_forward_loop = 0;
};

struct FileServerOptions {
  // Where request bodies arrive before a PUT renames them into place; on the data's file system.
  // Default: "spool" beside the data directory. Leftovers of an earlier run are removed.
  std::string spool_dir;
  // Connection bounds (see HttpServerOptions).
  int max_connections = 512;
  // The largest request body, chunked or not (413 past it).
  uint64_t max_body_bytes = uint64_t{1} << 30;
  absl::Duration header_timeout = absl::Seconds(10);
  absl::Duration read_timeout = absl::Seconds(30);
  absl::Duration write_timeout = absl::Seconds(30);
  absl::Duration idle_timeout = absl::Seconds(60);
  // Tests only: runs on the worker just before a local write is applied (fsync and rename).
  std::function<void(const std::string& path)> testing_before_commit;
};

class FileServer final : private RequestHandler {
 public:
  FileServer(std::string data_dir, const InstanceConfig& config, FileServerOptions options = {});
  ~FileServer() override;

  // Prepares the spool directory and binds config.address:config.port. FAILED_PRECONDITION saying
  // why when it cannot.
  absl::Status Bind();
  // Serves until Stop(). Call after Bind(). Returns at once if Stop() came first.
  void Serve();
  // From any thread, before or during Serve().
  void Stop();

  // New capacity, read-only mode or write routing, applied to requests dispatched after it
  // returns (held writes are dispatched again under it). A config that stops local writes
  // (read-only, or a freeze) also waits for the writes already being applied to finish, at most
  // `drain_timeout`, so that nothing is written locally after it returns: DEADLINE_EXCEEDED when
  // they did not (the config still applies to new requests, but its generation is not reported as
  // applied).
  absl::Status Reconfigure(const InstanceConfig& config,
                           absl::Duration drain_timeout = absl::Seconds(30));
  // The generation of the last config fully applied (see InstanceConfig::generation).
  int64_t applied_generation() const;
  TrafficCounters counters() const;
  HttpServerCounters connection_counters() const { return http_->counters(); }

 private:
  // RequestHandler:
  Next OnHeader(HttpRequest& req, HttpResponse* res) override;
  Next Dispatch(HttpRequest& req, HttpResponse* res) override;
  // Where the config sends a request: held, forwarded (req.forward_to), refused, or served here.
  Next Route(HttpRequest& req, HttpResponse* res);
  void Work(HttpRequest& req, HttpResponse* res) override;
  void HoldExpired(HttpRequest& req, HttpResponse* res) override;
  void Decorate(const HttpRequest& req, HttpResponse* res) override;
  // Records the exchange in the access log (instance/access_log.h).
  void Completed(const HttpRequest& req, const ExchangeStats& stats) override;
  // Records what a migration did to the client of `req` (instance/disruption_log.h).
  void NoteDisruptions(const HttpRequest& req, HttpResponse& res, bool old_primary);
  void HandleDisruptions(const HttpRequest& req, HttpResponse* res);
  // The access log, as GET /_shadowplane/accesses?after=N[&max=M].
  void HandleAccesses(const HttpRequest& req, HttpResponse* res);

  void HandleGet(const HttpRequest& req, HttpResponse* res);
  void HandlePut(HttpRequest& req, HttpResponse* res);
  void HandleDelete(const HttpRequest& req, HttpResponse* res);
  void HandleStatus(HttpResponse* res);
  void Forward(const HttpRequest& req, HttpResponse* res);
  // The absolute path for the request, or an answered `res` (400/403/404).
  bool MapPath(const HttpRequest& req, HttpResponse* res, std::string* path, bool must_exist);
  // Opens `relative` (a checked request path; "" is the root) for reading, never leaving the data
  // directory, even through a symlink. -1 with errno (EXDEV or ELOOP: it would leave) on failure.
  int OpenInData(const std::string& relative) const;
  // Answers 503 with Retry-After: read-write, but no write lease holds. Caller holds mu_.
  void RefuseWithoutLease(HttpResponse* res) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Checks the lease once more just before a local write is applied, and stamps the answer with
  // the time it was applied (X-Shadowplane-Applied-At, Unix microseconds); false with `res`
  // answered when the lease ran out meanwhile.
  bool MayCommit(HttpResponse* res) ABSL_LOCKS_EXCLUDED(mu_);
  // Marks the end of a local write that Dispatch() admitted.
  void FinishLocalWrite();

  const std::string data_dir_;
  const std::string instance_id_;
  const FileServerOptions options_;
  std::string real_data_dir_;
  int data_dir_fd_ = -1;  // O_PATH, for resolving reads beneath it
  TokenBucket limiter_;
  mutable absl::Mutex mu_;
  InstanceConfig config_ ABSL_GUARDED_BY(mu_);
  int writes_in_flight_ ABSL_GUARDED_BY(mu_) = 0;  // admitted local writes not yet applied
  absl::CondVar write_finished_;                   // Reconfigure() waits on it to drain
  int64_t applied_generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<int64_t> rate_limited_{0};
  std::atomic<int64_t> writes_held_{0};
  std::atomic<int64_t> writes_forwarded_{0};
  std::atomic<int64_t> hold_expired_{0};
  std::atomic<int64_t> lease_refused_{0};
  std::atomic<int64_t> accesses_recorded_{0};
  std::atomic<int64_t> forwarded_for_untrusted_{0};
  std::atomic<int64_t> forwarded_for_malformed_{0};
  std::atomic<int64_t> refused_unauthenticated_{0};
  std::atomic<int64_t> refused_forward_loop_{0};
  DisruptionLog disruptions_;
  AccessLog accesses_;
  // Last: destroyed first, so that no worker runs a handler method on a half-destroyed server.
  std::unique_ptr<HttpServer> http_;
};

}  // namespace shadowplane::instance

#endif  // SHADOWPLANE_INSTANCE_FILE_SERVER_H_
