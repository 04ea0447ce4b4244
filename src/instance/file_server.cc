#include "instance/file_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/file_util.h"
#include "common/log.h"
#include "instance/client_address.h"
#include "instance/forward_auth.h"
#include "instance/request_path.h"
#include "instance/write_forwarder.h"

namespace shadowplane::instance {
namespace {

constexpr char kStatusPath[] = "/_shadowplane/status";
constexpr char kDisruptionsPath[] = "/_shadowplane/disruptions";
constexpr char kAccessesPath[] = "/_shadowplane/accesses";
// The longest file an old primary fetches from the new one for a read it forwards.
constexpr uint64_t kMaxForwardedReadBytes = 16 << 20;

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) return "";
  return buf;
}

bool Inside(const std::string& real, const std::string& root) {
  return real == root || absl::StartsWith(real, root + "/");
}

bool IsWrite(const std::string& method) { return method == "PUT" || method == "DELETE"; }

std::string DefaultSpoolDir(const std::string& data_dir) {
  std::string dir = data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const size_t slash = dir.rfind('/');
  return slash == std::string::npos ? "spool" : absl::StrCat(dir.substr(0, slash), "/spool");
}

HttpServerOptions ServerOptions(const InstanceConfig& config, const FileServerOptions& o,
                                const std::string& data_dir) {
  HttpServerOptions s;
  s.address = config.address;
  s.port = config.port;
  s.spool_dir = o.spool_dir.empty() ? DefaultSpoolDir(data_dir) : o.spool_dir;
  s.workers = WorkerThreadsFor(config.capacity);
  s.max_connections = o.max_connections;
  s.max_body_bytes = o.max_body_bytes;
  s.header_timeout = o.header_timeout;
  s.read_timeout = o.read_timeout;
  s.write_timeout = o.write_timeout;
  s.idle_timeout = o.idle_timeout;
  return s;
}

}  // namespace

FileServer::FileServer(std::string data_dir, const InstanceConfig& config,
                       FileServerOptions options)
    : data_dir_(std::move(data_dir)),
      instance_id_(config.instance_id),
      options_([&] {
        if (options.spool_dir.empty()) options.spool_dir = DefaultSpoolDir(data_dir_);
        return std::move(options);
      }()),
      limiter_(RequestsPerSecondFor(config.capacity), RequestsPerSecondFor(config.capacity)),
      config_(config),
      applied_generation_(config.generation) {
  real_data_dir_ = RealPath(data_dir_);
  if (!real_data_dir_.empty()) {
    data_dir_fd_ = open(real_data_dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  }
  http_ = std::make_unique<HttpServer>(ServerOptions(config, options_, data_dir_),
                                       static_cast<RequestHandler*>(this));
}

FileServer::~FileServer() {
  Stop();
  http_.reset();  // joins the workers while everything they use is still here
  if (data_dir_fd_ >= 0) close(data_dir_fd_);
}

absl::Status FileServer::Bind() {
  if (real_data_dir_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("data directory ", data_dir_, " is missing"));
  }
  if (mkdir(options_.spool_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(absl::StrCat("cannot create the spool directory ",
                                                      options_.spool_dir, ": ", strerror(errno)));
  }
  // Bodies of requests an earlier run was receiving when it stopped: never answered, so nobody
  // waits for them.
  if (DIR* dir = opendir(options_.spool_dir.c_str())) {
    while (const dirent* e = readdir(dir)) {
      if (absl::StartsWith(e->d_name, "body-")) {
        unlink(absl::StrCat(options_.spool_dir, "/", e->d_name).c_str());
      }
    }
    closedir(dir);
  }
  return http_->Bind();
}

void FileServer::Serve() { http_->Serve(); }

void FileServer::Stop() { http_->Stop(); }

absl::Status FileServer::Reconfigure(const InstanceConfig& config, absl::Duration drain_timeout) {
  http_->SetWorkers(WorkerThreadsFor(config.capacity));
  limiter_.SetRate(RequestsPerSecondFor(config.capacity), RequestsPerSecondFor(config.capacity));
  {
    absl::MutexLock lock(&mu_);
    config_ = config;
  }
  http_->Redispatch();  // held writes go where the new config says
  absl::MutexLock lock(&mu_);
  if (config.read_only || config.hold_writes) {
    const absl::Time deadline = absl::Now() + drain_timeout;
    while (writes_in_flight_ > 0) {
      if (write_finished_.WaitWithDeadline(&mu_, deadline) && writes_in_flight_ > 0) {
        return absl::DeadlineExceededError(absl::StrCat(
            writes_in_flight_, " writes admitted before generation ", config.generation,
            " were still being applied after ", absl::FormatDuration(drain_timeout)));
      }
    }
  }
  applied_generation_ = config.generation;
  return absl::OkStatus();
}

int64_t FileServer::applied_generation() const {
  absl::MutexLock lock(&mu_);
  return applied_generation_;
}

void FileServer::RefuseWithoutLease(HttpResponse* res) {
  lease_refused_++;
  res->set_header("Retry-After", "1");
  res->Reply(503, absl::StrCat("instance ", config_.instance_id, " holds no write lease (epoch ",
                               config_.epoch, "): it takes writes again once its agent renews it"));
}

bool FileServer::MayCommit(HttpResponse* res) {
  absl::MutexLock lock(&mu_);
  // Admitted under a lease that has run out since (a slow body or disk): the instance that
  // holds the resource's writes now may already have taken one, so this one must not land.
  if (!config_.LeaseUnexpired(absl::Now())) {
    RefuseWithoutLease(res);
    return false;
  }
  res->set_header("X-Shadowplane-Applied-At", absl::StrCat(absl::ToUnixMicros(absl::Now())));
  return true;
}

void FileServer::FinishLocalWrite() {
  absl::MutexLock lock(&mu_);
  if (--writes_in_flight_ == 0) write_finished_.SignalAll();
}

TrafficCounters FileServer::counters() const {
  const HttpServerCounters c = http_->counters();
  return {c.requests,
          c.bytes_received,
          c.bytes_sent,
          rate_limited_.load(),
          writes_held_.load(),
          writes_forwarded_.load(),
          hold_expired_.load(),
          lease_refused_.load(),
          accesses_recorded_.load(),
          forwarded_for_untrusted_.load(),
          forwarded_for_malformed_.load(),
          refused_unauthenticated_.load(),
          refused_forward_loop_.load()};
}

RequestHandler::Next FileServer::OnHeader(HttpRequest& req, HttpResponse* res) {
  const bool read = req.method == "GET" || req.method == "HEAD";
  if (read && req.target == kStatusPath) {
    // For the agent: never rate-limited, never queued behind client work.
    HandleStatus(res);
    return Next::kAnswer;
  }
  if (read && (absl::StartsWith(req.target, kDisruptionsPath) ||
               absl::StartsWith(req.target, kAccessesPath))) {
    // They name clients: for the agent only.
    bool agent;
    {
      absl::MutexLock lock(&mu_);
      agent =
          !config_.agent_key.empty() && SameSecret(req.header(kAgentKeyHeader), config_.agent_key);
    }
    if (!agent) {
      refused_unauthenticated_++;
      res->Reply(403, "this view is the agent's: it needs the instance's agent key");
    } else if (absl::StartsWith(req.target, kDisruptionsPath)) {
      HandleDisruptions(req, res);
    } else {
      HandleAccesses(req, res);
    }
    return Next::kAnswer;
  }
  if (const std::string by = req.header(kForwardedByHeader); !by.empty()) {
    std::string secret;
    {
      absl::MutexLock lock(&mu_);
      secret = config_.forward_secret;
    }
    req.forwarded = VerifyForward(secret, req.header(kForwardSignatureHeader), req.method,
                                  req.target, by, absl::Now());
    if (!req.forwarded) {
      refused_unauthenticated_++;
      res->Reply(403,
                 "a forwarded request must be signed with the resource's secret by one of "
                 "its instances; this one is not");
      return Next::kAnswer;
    }
  }
  if (!read && !IsWrite(req.method)) {
    res->set_header("Allow", "GET, HEAD, PUT, DELETE");
    res->Reply(405, absl::StrCat("method ", req.method, " is not served"));
    return Next::kAnswer;
  }
  if (!limiter_.TryTake()) {
    rate_limited_++;
    res->set_header("Retry-After", "1");
    res->Reply(429, "request rate above this instance's capacity");
    return Next::kAnswer;
  }
  if (read) return Next::kWork;
  if (auto relative = ResolveRequestPath(req.target); !relative.ok()) {
    res->Reply(400, std::string(relative.status().message()));
    return Next::kAnswer;
  }
  // Refused before its body is read when nothing could change that: read-only, not forwarding,
  // not in a freeze (which may end in either).
  absl::MutexLock lock(&mu_);
  if (config_.read_only && config_.forward_writes_to.empty() && !config_.hold_writes) {
    res->set_header("Allow", "GET, HEAD");
    res->Reply(405, absl::StrCat("instance ", config_.instance_id, " is read-only"));
    return Next::kAnswer;
  }
  return Next::kWork;
}

RequestHandler::Next FileServer::Dispatch(HttpRequest& req, HttpResponse* res) {
  const Next next = Route(req, res);
  // A request is passed on at most once: one that reached this instance forwarded and would be
  // forwarded again goes round in a loop (an instance forwarding to itself, or two old primaries
  // pointing at each other), each hop taking a worker until all are taken.
  if (next == Next::kWork && req.forwarded && !req.forward_to.empty()) {
    refused_forward_loop_++;
    req.forward_to.clear();
    res->Reply(508, absl::StrCat("instance ", instance_id_, " would forward this request again (",
                                 req.header(kForwardedByHeader),
                                 " forwarded it here): a forwarding loop"));
    return Next::kAnswer;
  }
  return next;
}

RequestHandler::Next FileServer::Route(HttpRequest& req, HttpResponse* res) {
  absl::MutexLock lock(&mu_);
  if (config_.hold_writes) {
    // A cutover's freeze: wait (without a worker) for it to lift, then go where the new config
    // says. Reads wait too: once traffic has switched, a write may be taken at the new primary
    // before this instance forwards, and a read answered here would lack it.
    if (!req.held) {
      req.held = true;
      req.held_since = absl::Now();
      req.hold_until = req.held_since + absl::Milliseconds(config_.write_hold_ms);
      if (IsWrite(req.method)) writes_held_++;
    }
    return Next::kHold;
  }
  if (!IsWrite(req.method)) {
    // An old primary passes GETs on as well, for the same reason (a HEAD is answered here).
    if (req.method == "GET" && config_.read_only && !config_.forward_writes_to.empty()) {
      req.forward_to = config_.forward_writes_to;
    }
    return Next::kWork;
  }
  if (config_.read_only) {
    if (!config_.forward_writes_to.empty()) {
      req.forward_to = config_.forward_writes_to;
      return Next::kWork;
    }
    res->set_header("Allow", "GET, HEAD");
    res->Reply(405, absl::StrCat("instance ", config_.instance_id, " is read-only"));
    return Next::kAnswer;
  }
  if (!config_.LeaseHolds(absl::Now())) {
    RefuseWithoutLease(res);
    return Next::kAnswer;
  }
  ++writes_in_flight_;  // until FinishLocalWrite() in Work()
  return Next::kWork;
}

void FileServer::HoldExpired(HttpRequest& req, HttpResponse* res) {
  (void)req;
  hold_expired_++;
  int hold_ms;
  {
    absl::MutexLock lock(&mu_);
    hold_ms = config_.write_hold_ms;
  }
  res->set_header("Retry-After", "1");
  res->Reply(503, absl::StrCat("instance ", instance_id_, " held this request for ", hold_ms,
                               " ms (a cutover is in progress); retry"));
}

void FileServer::Decorate(const HttpRequest& req, HttpResponse* res) {
  res->set_header("X-Shadowplane-Instance", instance_id_);
  bool old_primary;
  {
    // An old primary that forwards ends each kept-alive connection after its answer, so that the
    // client (or a load balancer's pooled connection) reconnects to where traffic now points
    // instead of staying here for good.
    absl::MutexLock lock(&mu_);
    old_primary = config_.read_only && !config_.forward_writes_to.empty();
  }
  if (old_primary) res->close = true;
  if (absl::StartsWith(req.target, "/_shadowplane/")) return;
  NoteDisruptions(req, *res, old_primary);
}

void FileServer::NoteDisruptions(const HttpRequest& req, HttpResponse& res, bool old_primary) {
  const absl::Time now = absl::Now();
  std::string client;
  auto note = [&](DisruptionKind kind) {
    if (client.empty()) client = ClientKeyOf(req.header("X-Shadowplane-Client"), req.peer);
    disruptions_.Note(client, kind, now);
  };
  const bool failed = res.status == 503;
  if (req.held) {
    res.set_header("X-Shadowplane-Held-Ms",
                   absl::StrCat(absl::ToInt64Milliseconds(now - req.held_since)));
    if (!failed) note(DisruptionKind::kHeld);
  }
  if (failed && (req.held || !req.forward_to.empty())) note(DisruptionKind::kFailed);
  if (!failed && !req.forward_to.empty()) note(DisruptionKind::kForwarded);
  if (old_primary && req.forward_to.empty() && (req.method == "GET" || req.method == "HEAD") &&
      res.status < 300) {
    note(DisruptionKind::kStaleRead);  // answered from data that may lack a newer write
  }
  // A connection this instance ends that the client wanted kept: the client reconnects. Behind a
  // proxy (X-Forwarded-For) only the proxy's connection ends, not the client's.
  if (res.close && old_primary && req.keep_alive && req.header("X-Forwarded-For").empty()) {
    note(DisruptionKind::kClosed);
  }
}

void FileServer::HandleDisruptions(const HttpRequest& req, HttpResponse* res) {
  int64_t since_us = 0;
  const size_t query = req.target.find("?since_us=");
  if (query == std::string::npos || !absl::SimpleAtoi(req.target.substr(query + 10), &since_us) ||
      since_us < 0) {
    return res->Reply(400, "want ?since_us=<Unix microseconds>");
  }
  res->content_type = "application/json";
  res->body = DisruptionLog::ToJson(disruptions_.Since(absl::FromUnixMicros(since_us)));
}

void FileServer::Completed(const HttpRequest& req, const ExchangeStats& stats) {
  if (absl::StartsWith(req.target, "/_shadowplane/")) return;  // the agent's, not a client's
  // Passed on by an old primary, which recorded it with the client's own address and id: a
  // second record here would count the access twice and the old primary as a client.
  if (req.forwarded) return;
  std::vector<std::string> trusted;
  {
    absl::MutexLock lock(&mu_);
    if (!config_.record_accesses) return;
    trusted = config_.trusted_proxies;
  }
  const ClientAddress client = ClientAddressOf(req.headers, req.peer, trusted);
  if (client.source == ClientAddressSource::kUntrustedForwardedFor) forwarded_for_untrusted_++;
  if (client.source == ClientAddressSource::kMalformedForwardedFor) forwarded_for_malformed_++;
  AccessRecord r;
  r.at = absl::Now();
  r.client_ip = client.address;
  r.client_id = UsableClientId(req.header("X-Shadowplane-Client"));
  r.method = req.method;
  r.bytes_in = stats.bytes_in;
  r.bytes_out = stats.bytes_out;
  r.latency = stats.latency;
  r.status = stats.status;
  accesses_.Note(std::move(r));
  accesses_recorded_++;
}

void FileServer::HandleAccesses(const HttpRequest& req, HttpResponse* res) {
  int64_t after = -1;
  int max = 5000;
  const size_t query = req.target.find('?');
  if (query != std::string::npos) {
    for (absl::string_view pair : absl::StrSplit(req.target.substr(query + 1), '&')) {
      if (absl::ConsumePrefix(&pair, "after=")) {
        if (!absl::SimpleAtoi(pair, &after)) after = -1;
      } else if (absl::ConsumePrefix(&pair, "max=")) {
        if (!absl::SimpleAtoi(pair, &max) || max < 1 || max > kMaxAccessPage) max = -1;
      }
    }
  }
  if (after < 0 || max < 0) {
    return res->Reply(
        400, absl::StrCat("want ?after=<record number >= 0>[&max=1..", kMaxAccessPage, "]"));
  }
  AccessPage page = accesses_.After(after, max);
  const HttpServerCounters c = http_->counters();
  page.bytes_in_total = c.bytes_received;
  page.bytes_out_total = c.bytes_sent;
  res->content_type = "text/tab-separated-values";
  res->body = AccessLog::ToText(page);
}

void FileServer::Work(HttpRequest& req, HttpResponse* res) {
  if (!req.forward_to.empty()) return Forward(req, res);
  if (req.method == "PUT") return HandlePut(req, res);
  if (req.method == "DELETE") return HandleDelete(req, res);
  HandleGet(req, res);
}

void FileServer::Forward(const HttpRequest& req, HttpResponse* res) {
  res->set_header("X-Shadowplane-Forwarded-To", req.forward_to);
  ForwardLimits limits;
  if (!IsWrite(req.method)) limits.max_answer_bytes = kMaxForwardedReadBytes;
  std::string secret;
  {
    absl::MutexLock lock(&mu_);
    secret = config_.forward_secret;
  }
  // Unsigned without the resource's secret, and then refused by the new primary: an instance
  // created before forwarding was signed gets the secret with the routing that starts it.
  const std::string signature =
      secret.empty() ? std::string()
                     : SignForward(secret, req.method, req.target, instance_id_, absl::Now());
  absl::StatusOr<ForwardedAnswer> answer =
      ForwardRequest(req, req.forward_to, instance_id_, signature, limits);
  if (!answer.ok()) {
    res->set_header("Retry-After", "1");
    return res->Reply(503, absl::StrCat("this instance is no longer the primary and the primary "
                                        "could not be reached: ",
                                        answer.status().message()));
  }
  if (IsWrite(req.method)) writes_forwarded_++;
  if (!answer->instance.empty()) res->set_header("X-Shadowplane-Served-By", answer->instance);
  res->status = answer->status;
  res->body = std::move(answer->body);
  if (!answer->content_type.empty()) res->content_type = answer->content_type;
}

bool FileServer::MapPath(const HttpRequest& req, HttpResponse* res, std::string* path,
                         bool must_exist) {
  auto relative = ResolveRequestPath(req.target);
  if (!relative.ok()) {
    res->Reply(400, std::string(relative.status().message()));
    return false;
  }
  *path = relative->empty() ? data_dir_ : absl::StrCat(data_dir_, "/", *relative);
  if (must_exist) {
    const std::string real = RealPath(*path);
    if (real.empty()) {
      res->Reply(404, "not found");
      return false;
    }
    if (!Inside(real, real_data_dir_)) {
      res->Reply(403, "path leads outside the instance's data");
      return false;
    }
  }
  return true;
}

void FileServer::HandleGet(const HttpRequest& req, HttpResponse* res) {
  auto relative = ResolveRequestPath(req.target);
  if (!relative.ok()) return res->Reply(400, std::string(relative.status().message()));
  int fd = OpenInData(*relative);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return res->Reply(404, "not found");
    if (errno == EXDEV || errno == ELOOP) {
      return res->Reply(403, "path leads outside the instance's data");
    }
    return res->Reply(403, absl::StrCat("cannot open: ", strerror(errno)));
  }
  absl::Cleanup close_fd = [&] {
    if (fd >= 0 && res->file_fd != fd) close(fd);
  };
  struct stat st;
  if (fstat(fd, &st) != 0) return res->Reply(404, "not found");
  if (S_ISDIR(st.st_mode)) {
    DIR* dir = fdopendir(fd);
    if (dir == nullptr) return res->Reply(403, "directory cannot be read");
    fd = -1;  // the DIR owns it
    std::vector<std::string> names;
    while (const dirent* e = readdir(dir)) {
      const std::string name = e->d_name;
      if (absl::StartsWith(name, ".")) continue;  // ., .. and hidden files
      names.push_back(e->d_type == DT_DIR ? name + "/" : name);
    }
    closedir(dir);
    std::sort(names.begin(), names.end());
    res->body.clear();
    for (const std::string& n : names) absl::StrAppend(&res->body, n, "\n");
    return;
  }
  if (!S_ISREG(st.st_mode)) return res->Reply(403, "not a regular file");
  res->set_header("Last-Modified",
                  absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", absl::FromTimeT(st.st_mtime),
                                   absl::UTCTimeZone()));
  // Sent from the descriptor by the I/O thread, in parts: memory stays bounded whatever the size,
  // and a replacement (a rename) while it is sent does not tear it.
  res->content_type = "application/octet-stream";
  res->file_fd = fd;
  res->file_size = st.st_size;
}

int FileServer::OpenInData(const std::string& relative) const {
  const char* path = relative.empty() ? "." : relative.c_str();
  constexpr int kFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
  if (data_dir_fd_ >= 0) {
    // One system call resolves the path and refuses any step (a symlink, absolute or relative)
    // that would leave the data directory; realpath() costs a readlink per component.
    open_how how{};
    how.flags = kFlags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const long fd = syscall(SYS_openat2, data_dir_fd_, path, &how, sizeof(how));
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) return static_cast<int>(fd);
  }
  // Kernels before 5.6, or a sandbox that filters openat2: resolve, check, then open.
  const std::string full = relative.empty() ? data_dir_ : absl::StrCat(data_dir_, "/", relative);
  const std::string real = RealPath(full);
  if (real.empty()) return -1;  // errno from realpath()
  if (!Inside(real, real_data_dir_)) {
    errno = EXDEV;
    return -1;
  }
  return open(real.c_str(), kFlags);
}

void FileServer::HandlePut(HttpRequest& req, HttpResponse* res) {
  absl::Cleanup finished = [this] { FinishLocalWrite(); };
  std::string path;
  if (!MapPath(req, res, &path, /*must_exist=*/false)) return;
  if (path == data_dir_) return res->Reply(400, "cannot PUT the root directory");
  // Walk to the parent, creating directories, and never through a symlink: a link inside the data
  // could otherwise lead a write outside it.
  const std::string relative = path.substr(data_dir_.size() + 1);
  std::vector<std::string> parts = absl::StrSplit(relative, '/');
  std::string dir = data_dir_;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    dir = absl::StrCat(dir, "/", parts[i]);
    struct stat st;
    if (lstat(dir.c_str(), &st) != 0) {
      if (mkdir(dir.c_str(), 0755) != 0) {
        if (errno != EEXIST) {
          return res->Reply(500, absl::StrCat("cannot create directory: ", strerror(errno)));
        }
        continue;  // made by a request beside this one, which makes it durable
      }
      // The new directory's entry is durable before anything is acknowledged inside it.
      if (absl::Status s = SyncParentDirectory(dir); !s.ok()) {
        return res->Reply(507, absl::StrCat("cannot make a new directory durable: ", s.message()));
      }
      continue;
    }
    if (S_ISLNK(st.st_mode)) return res->Reply(403, "path goes through a symbolic link");
    if (!S_ISDIR(st.st_mode)) {
      return res->Reply(409, absl::StrCat(parts[i], " is not a directory"));
    }
  }
  struct stat existing;
  const bool existed = lstat(path.c_str(), &existing) == 0;
  if (existed && S_ISDIR(existing.st_mode)) return res->Reply(409, "a directory is there");
  if (req.body.empty()) {
    // An empty body arrives with no spool file: make one, so that every PUT commits the same way.
    std::string temp = absl::StrCat(options_.spool_dir, "/body-XXXXXX");
    const int fd = mkostemp(temp.data(), O_CLOEXEC);
    if (fd < 0) return res->Reply(507, absl::StrCat("cannot create a file: ", strerror(errno)));
    req.body = SpooledBody(temp, fd);
  }
  if (options_.testing_before_commit) options_.testing_before_commit(path);
  if (!MayCommit(res)) return;
  const int fd = req.body.fd();
  if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
    return res->Reply(507, absl::StrCat("cannot store the file: ", strerror(errno)));
  }
  if (rename(req.body.path().c_str(), path.c_str()) != 0) {
    return res->Reply(500, absl::StrCat("cannot store the file: ", strerror(errno),
                                        errno == EXDEV ? " (the spool directory is on another "
                                                         "file system than the data)"
                                                       : ""));
  }
  req.body.Release();
  // Acknowledged only once the rename is durable: the client would retry an error (PUT is
  // idempotent), but not a success that a crash then undoes.
  if (absl::Status s = SyncParentDirectory(path); !s.ok()) {
    return res->Reply(507, absl::StrCat("stored, but cannot make it durable: ", s.message()));
  }
  res->status = existed ? 204 : 201;
}

void FileServer::HandleDelete(const HttpRequest& req, HttpResponse* res) {
  absl::Cleanup finished = [this] { FinishLocalWrite(); };
  std::string path;
  if (!MapPath(req, res, &path, /*must_exist=*/false)) return;
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return res->Reply(404, "not found");
  if (path == data_dir_ || S_ISDIR(st.st_mode)) {
    return res->Reply(409, "directories are not deleted over HTTP");
  }
  // Checked on the parent, so that deleting a symlink removes the link and nothing it points to.
  const std::string parent_real = RealPath(path.substr(0, path.rfind('/')));
  if (parent_real.empty() || !Inside(parent_real, real_data_dir_)) {
    return res->Reply(403, "path leads outside the instance's data");
  }
  if (options_.testing_before_commit) options_.testing_before_commit(path);
  if (!MayCommit(res)) return;
  if (unlink(path.c_str()) != 0) {
    return res->Reply(500, absl::StrCat("cannot delete: ", strerror(errno)));
  }
  (void)SyncParentDirectory(path);
  res->status = 204;
}

void FileServer::HandleStatus(HttpResponse* res) {
  InstanceConfig config;
  int64_t generation;
  int in_flight;
  {
    absl::MutexLock lock(&mu_);
    config = config_;
    generation = applied_generation_;
    in_flight = writes_in_flight_;
  }
  const TrafficCounters c = counters();
  const HttpServerCounters h = http_->counters();
  res->content_type = "application/json";
  res->body = absl::StrFormat(
      "{\"instance_id\":\"%s\",\"resource_id\":\"%s\",\"millicores\":%d,\"memory_mib\":%d,"
      "\"capacity_type\":\"%s\",\"read_only\":%s,\"worker_threads\":%d,"
      "\"requests_per_second_limit\":%.0f,\"requests\":%d,\"bytes_received\":%d,"
      "\"bytes_sent\":%d,\"rate_limited\":%d,\"hold_writes\":%s,"
      "\"forward_writes_to\":\"%s\",\"writes_held\":%d,\"writes_forwarded\":%d,"
      "\"writes_hold_expired\":%d,\"writes_in_flight\":%d,\"requests_in_progress\":%d,"
      "\"requests_held\":%d,\"connections_open\":%d,\"connections_idle\":%d,"
      "\"connections_accepted\":%d,\"idle_closed_for_room\":%d,\"connections_refused\":%d,"
      "\"connection_timeouts\":%d,\"generation\":%d,\"epoch\":%d,\"write_lease_until_ms\":%d,"
      "\"writes_refused_without_lease\":%d,\"accesses_recorded\":%d,"
      "\"forwarded_for_untrusted\":%d,\"forwarded_for_malformed\":%d,"
      "\"refused_unauthenticated\":%d,\"refused_forward_loop\":%d,\"pid\":%d}\n",
      config.instance_id, config.resource_id, config.capacity.millicores,
      config.capacity.memory_mib, CapacityTypeName(config.capacity.type),
      config.read_only ? "true" : "false", http_->workers(), RequestsPerSecondFor(config.capacity),
      c.requests, c.bytes_received, c.bytes_sent, c.rejected_rate_limited,
      config.hold_writes ? "true" : "false", config.forward_writes_to, c.writes_held,
      c.writes_forwarded, c.writes_hold_expired, in_flight, h.requests_in_progress, h.requests_held,
      h.connections_open, h.connections_idle, h.connections_accepted, h.idle_closed_for_room,
      h.connections_refused, h.timeouts, generation, config.epoch, config.write_lease_until_ms,
      c.writes_refused_without_lease, c.accesses_recorded, c.forwarded_for_untrusted,
      c.forwarded_for_malformed, c.refused_unauthenticated, c.refused_forward_loop,
      static_cast<int>(getpid()));
}

}  // namespace shadowplane::instance
