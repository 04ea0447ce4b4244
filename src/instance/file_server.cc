#include "instance/file_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/file_util.h"
#include "common/listen_address.h"
#include "common/log.h"
#include "instance/request_path.h"

namespace shadowplane::instance {
namespace {

constexpr char kStatusPath[] = "/_shadowplane/status";
constexpr size_t kMaxUploadBytes = size_t{1} << 30;  // 1 GiB per PUT
constexpr size_t kChunk = 64 * 1024;

// Forwards to a pool that outlives httplib's listen loop (httplib deletes its task queue).
class ForwardingQueue final : public httplib::TaskQueue {
 public:
  explicit ForwardingQueue(ResizableThreadPool* pool) : pool_(pool) {}
  void enqueue(std::function<void()> fn) override { pool_->enqueue(std::move(fn)); }
  void shutdown() override {}

 private:
  ResizableThreadPool* pool_;
};

void Reply(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(message + "\n", "text/plain");
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) return "";
  return buf;
}

bool Inside(const std::string& real, const std::string& root) {
  return real == root || absl::StartsWith(real, root + "/");
}

size_t HeaderBytes(const httplib::Headers& headers) {
  size_t n = 2;  // the blank line
  for (const auto& [key, value] : headers) n += key.size() + value.size() + 4;
  return n;
}

}  // namespace

FileServer::FileServer(std::string data_dir, const InstanceConfig& config)
    : data_dir_(std::move(data_dir)),
      pool_(WorkerThreadsFor(config.capacity)),
      limiter_(RequestsPerSecondFor(config.capacity), RequestsPerSecondFor(config.capacity)),
      config_(config),
      applied_generation_(config.generation) {
  real_data_dir_ = RealPath(data_dir_);
  http_.new_task_queue = [this] { return new ForwardingQueue(&pool_); };
  // Without SO_REUSEPORT (httplib's default sets it): a second server on our address must fail.
  http_.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  http_.set_payload_max_length(kMaxUploadBytes);
  // Headers and body leave in separate writes: without this, Nagle holds the second until the
  // peer's delayed ACK (tens of milliseconds per request on a kept-alive connection).
  http_.set_tcp_nodelay(true);
  http_.set_logger(
      [this](const httplib::Request& req, const httplib::Response& res) { Count(req, res); });
  http_.set_post_routing_handler([this](const httplib::Request&, httplib::Response& res) {
    absl::MutexLock lock(&mu_);
    res.set_header("X-Shadowplane-Instance", config_.instance_id);
  });
  http_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
    if (req.path == kStatusPath) return HandleStatus(res);
    HandleGet(req, res);
  });
  http_.Put(".*", [this](const httplib::Request& req, httplib::Response& res,
                         const httplib::ContentReader& reader) { HandlePut(req, res, reader); });
  http_.Delete(".*", [this](const httplib::Request& req, httplib::Response& res) {
    HandleDelete(req, res);
  });
}

FileServer::~FileServer() {
  Stop();
  pool_.shutdown();
}

absl::Status FileServer::Bind() {
  InstanceConfig config;
  {
    absl::MutexLock lock(&mu_);
    config = config_;
  }
  if (real_data_dir_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("data directory ", data_dir_, " is missing"));
  }
  if (!http_.bind_to_port(config.address, config.port)) {
    const std::string where = absl::StrCat(config.address, ":", config.port);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot listen on ", where, ": ", DiagnoseBindFailure(where)));
  }
  return absl::OkStatus();
}

void FileServer::Serve() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    serving_ = true;
  }
  http_.listen_after_bind();
}

// httplib's stop() does nothing until the listen loop runs, and a loop that starts after it runs
// forever: wait for a loop that was asked for, and keep one from starting after a stop.
void FileServer::Stop() {
  bool wait;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    wait = serving_;
    serving_ = false;  // a second Stop() has nothing to wait for
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (wait && !http_.is_running() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  http_.stop();
}

absl::Status FileServer::Reconfigure(const InstanceConfig& config, absl::Duration drain_timeout) {
  pool_.Resize(WorkerThreadsFor(config.capacity));
  limiter_.SetRate(RequestsPerSecondFor(config.capacity), RequestsPerSecondFor(config.capacity));
  absl::MutexLock lock(&mu_);
  config_ = config;
  config_changed_.SignalAll();
  if (config.read_only || config.hold_writes) {
    const absl::Time deadline = absl::Now() + drain_timeout;
    while (writes_in_flight_ > 0) {
      if (write_finished_.WaitWithDeadline(&mu_, deadline) && writes_in_flight_ > 0) {
        return absl::DeadlineExceededError(absl::StrCat(
            writes_in_flight_, " writes admitted before generation ", config.generation,
            " were still running after ", absl::FormatDuration(drain_timeout)));
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

void FileServer::FinishLocalWrite() {
  absl::MutexLock lock(&mu_);
  if (--writes_in_flight_ == 0) write_finished_.SignalAll();
}

TrafficCounters FileServer::counters() const {
  return {requests_.load(),    bytes_received_.load(),   bytes_sent_.load(),  rate_limited_.load(),
          writes_held_.load(), writes_forwarded_.load(), hold_expired_.load()};
}

bool FileServer::Admit(const httplib::Request& req, httplib::Response& res, bool write,
                       std::string* forward_to) {
  if (!limiter_.TryTake()) {
    rate_limited_++;
    res.set_header("Retry-After", "1");
    Reply(res, 429, "request rate above this instance's capacity");
    return false;
  }
  if (write) {
    absl::MutexLock lock(&mu_);
    if (config_.hold_writes) {
      // A cutover's freeze: wait for it to lift, then go where the new config says.
      writes_held_++;
      const absl::Time deadline = absl::Now() + absl::Milliseconds(config_.write_hold_ms);
      while (config_.hold_writes) {
        if (config_changed_.WaitWithDeadline(&mu_, deadline) && config_.hold_writes) {
          hold_expired_++;
          res.set_header("Retry-After", "1");
          Reply(res, 503,
                absl::StrCat("instance ", config_.instance_id, " held this write for ",
                             config_.write_hold_ms, " ms (a cutover is in progress); retry"));
          return false;
        }
      }
    }
    if (config_.read_only) {
      if (!config_.forward_writes_to.empty() && forward_to != nullptr) {
        *forward_to = config_.forward_writes_to;
        return true;
      }
      res.set_header("Allow", "GET, HEAD");
      Reply(res, 405, absl::StrCat("instance ", config_.instance_id, " is read-only"));
      return false;
    }
    ++writes_in_flight_;
  }
  return true;
}

void FileServer::Forward(const httplib::Request& req, httplib::Response& res,
                         const httplib::ContentReader* reader, const std::string& target) {
  std::string body;
  if (reader != nullptr) {
    const bool read = (*reader)([&](const char* data, size_t length) {
      body.append(data, length);
      return true;
    });
    bytes_received_ += static_cast<int64_t>(body.size());
    if (!read) return Reply(res, 400, "request body ended early");
  }
  const size_t colon = target.rfind(':');
  std::string host = target.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const int port = colon == std::string::npos ? 80 : std::atoi(target.c_str() + colon + 1);
  httplib::Client client(host, port);
  client.set_url_encode(false);  // req.target is already encoded
  client.set_tcp_nodelay(true);
  client.set_connection_timeout(5);
  client.set_read_timeout(30);
  client.set_write_timeout(30);
  std::string self;
  {
    absl::MutexLock lock(&mu_);
    self = config_.instance_id;
  }
  const httplib::Headers headers = {{"X-Shadowplane-Forwarded-By", self}};
  httplib::Result result = req.method == "PUT"
                               ? client.Put(req.target, headers, body,
                                            req.get_header_value("Content-Type").empty()
                                                ? "application/octet-stream"
                                                : req.get_header_value("Content-Type"))
                               : client.Delete(req.target, headers);
  res.set_header("X-Shadowplane-Forwarded-To", target);
  if (!result) {
    res.set_header("Retry-After", "1");
    return Reply(res, 503,
                 absl::StrCat("this instance is read-only and the primary at ", target,
                              " could not be reached: ", httplib::to_string(result.error())));
  }
  writes_forwarded_++;
  res.status = result->status;
  res.body = result->body;
  if (result->has_header("Content-Type")) {
    res.set_header("Content-Type", result->get_header_value("Content-Type"));
  }
}

bool FileServer::MapPath(const httplib::Request& req, httplib::Response& res, std::string* path,
                         bool must_exist) {
  auto relative = ResolveRequestPath(req.target);
  if (!relative.ok()) {
    Reply(res, 400, std::string(relative.status().message()));
    return false;
  }
  *path = relative->empty() ? data_dir_ : absl::StrCat(data_dir_, "/", *relative);
  if (must_exist) {
    const std::string real = RealPath(*path);
    if (real.empty()) {
      Reply(res, 404, "not found");
      return false;
    }
    if (!Inside(real, real_data_dir_)) {
      Reply(res, 403, "path leads outside the instance's data");
      return false;
    }
  }
  return true;
}

void FileServer::HandleGet(const httplib::Request& req, httplib::Response& res) {
  if (!Admit(req, res, /*write=*/false)) return;
  std::string path;
  if (!MapPath(req, res, &path, /*must_exist=*/true)) return;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Reply(res, 404, "not found");
  if (S_ISDIR(st.st_mode)) {
    DIR* dir = opendir(path.c_str());
    if (dir == nullptr) return Reply(res, 403, "directory cannot be read");
    std::vector<std::string> names;
    while (const dirent* e = readdir(dir)) {
      const std::string name = e->d_name;
      if (absl::StartsWith(name, ".")) continue;  // ., .. and temporary files
      names.push_back(e->d_type == DT_DIR ? name + "/" : name);
    }
    closedir(dir);
    std::sort(names.begin(), names.end());
    std::string listing;
    for (const std::string& n : names) absl::StrAppend(&listing, n, "\n");
    res.set_content(listing, "text/plain");
    return;
  }
  if (!S_ISREG(st.st_mode)) return Reply(res, 403, "not a regular file");
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Reply(res, 403, absl::StrCat("cannot open: ", strerror(errno)));
  res.set_header("Last-Modified",
                 absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", absl::FromTimeT(st.st_mtime),
                                  absl::UTCTimeZone()));
  // Streamed in chunks: memory stays bounded whatever the file size. Body bytes are counted as
  // they go out (HEAD sends none).
  res.set_content_provider(
      static_cast<size_t>(st.st_size), "application/octet-stream",
      [this, fd](size_t offset, size_t length, httplib::DataSink& sink) {
        std::vector<char> buf(std::min(length, kChunk));
        const ssize_t n = pread(fd, buf.data(), buf.size(), static_cast<off_t>(offset));
        if (n <= 0) return false;
        bytes_sent_ += n;
        return sink.write(buf.data(), static_cast<size_t>(n));
      },
      [fd](bool) { close(fd); });
}

void FileServer::HandlePut(const httplib::Request& req, httplib::Response& res,
                           const httplib::ContentReader& reader) {
  std::string forward_to;
  if (!Admit(req, res, /*write=*/true, &forward_to)) return;
  if (!forward_to.empty()) return Forward(req, res, &reader, forward_to);
  absl::Cleanup finished = [this] { FinishLocalWrite(); };
  std::string path;
  if (!MapPath(req, res, &path, /*must_exist=*/false)) return;
  if (path == data_dir_) return Reply(res, 400, "cannot PUT the root directory");
  // Walk to the parent, creating directories, and never through a symlink: a link inside the data
  // could otherwise lead a write outside it.
  const std::string relative = path.substr(data_dir_.size() + 1);
  std::vector<std::string> parts = absl::StrSplit(relative, '/');
  std::string dir = data_dir_;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    dir = absl::StrCat(dir, "/", parts[i]);
    struct stat st;
    if (lstat(dir.c_str(), &st) != 0) {
      if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        return Reply(res, 500, absl::StrCat("cannot create directory: ", strerror(errno)));
      }
      continue;
    }
    if (S_ISLNK(st.st_mode)) return Reply(res, 403, "path goes through a symbolic link");
    if (!S_ISDIR(st.st_mode)) return Reply(res, 409, absl::StrCat(parts[i], " is not a directory"));
  }
  struct stat existing;
  const bool existed = lstat(path.c_str(), &existing) == 0;
  if (existed && S_ISDIR(existing.st_mode)) return Reply(res, 409, "a directory is there");

  std::string temp = absl::StrCat(dir, "/.", parts.back(), ".put-XXXXXX");
  const int fd = mkstemp(temp.data());
  if (fd < 0) return Reply(res, 500, absl::StrCat("cannot create a file: ", strerror(errno)));
  bool committed = false;
  absl::Cleanup cleanup = [&] {
    close(fd);
    if (!committed) unlink(temp.c_str());
  };
  int64_t received = 0;
  bool write_failed = false;
  const bool read_ok = reader([&](const char* data, size_t length) {
    received += static_cast<int64_t>(length);
    while (length > 0) {
      const ssize_t n = write(fd, data, length);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        write_failed = true;
        return false;
      }
      data += n;
      length -= static_cast<size_t>(n);
    }
    return true;
  });
  bytes_received_ += received;
  if (write_failed) return Reply(res, 507, "cannot store the file (disk full?)");
  if (!read_ok) return Reply(res, 400, "request body ended early");
  if (fchmod(fd, 0644) != 0 || fsync(fd) != 0 || rename(temp.c_str(), path.c_str()) != 0) {
    return Reply(res, 500, absl::StrCat("cannot store the file: ", strerror(errno)));
  }
  committed = true;
  (void)SyncParentDirectory(path);
  res.status = existed ? 204 : 201;
}

void FileServer::HandleDelete(const httplib::Request& req, httplib::Response& res) {
  std::string forward_to;
  if (!Admit(req, res, /*write=*/true, &forward_to)) return;
  if (!forward_to.empty()) return Forward(req, res, nullptr, forward_to);
  absl::Cleanup finished = [this] { FinishLocalWrite(); };
  std::string path;
  if (!MapPath(req, res, &path, /*must_exist=*/false)) return;
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return Reply(res, 404, "not found");
  if (path == data_dir_ || S_ISDIR(st.st_mode)) {
    return Reply(res, 409, "directories are not deleted over HTTP");
  }
  // Checked on the parent, so that deleting a symlink removes the link and nothing it points to.
  const std::string parent_real = RealPath(path.substr(0, path.rfind('/')));
  if (parent_real.empty() || !Inside(parent_real, real_data_dir_)) {
    return Reply(res, 403, "path leads outside the instance's data");
  }
  if (unlink(path.c_str()) != 0) {
    return Reply(res, 500, absl::StrCat("cannot delete: ", strerror(errno)));
  }
  (void)SyncParentDirectory(path);
  res.status = 204;
}

void FileServer::HandleStatus(httplib::Response& res) {
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
  res.set_content(
      absl::StrFormat(
          "{\"instance_id\":\"%s\",\"resource_id\":\"%s\",\"millicores\":%d,\"memory_mib\":%d,"
          "\"capacity_type\":\"%s\",\"read_only\":%s,\"worker_threads\":%d,"
          "\"requests_per_second_limit\":%.0f,\"requests\":%d,\"bytes_received\":%d,"
          "\"bytes_sent\":%d,\"rate_limited\":%d,\"hold_writes\":%s,"
          "\"forward_writes_to\":\"%s\",\"writes_held\":%d,\"writes_forwarded\":%d,"
          "\"writes_hold_expired\":%d,\"writes_in_flight\":%d,\"generation\":%d,\"pid\":%d}\n",
          config.instance_id, config.resource_id, config.capacity.millicores,
          config.capacity.memory_mib, CapacityTypeName(config.capacity.type),
          config.read_only ? "true" : "false", pool_.target(),
          RequestsPerSecondFor(config.capacity), c.requests, c.bytes_received, c.bytes_sent,
          c.rejected_rate_limited, config.hold_writes ? "true" : "false", config.forward_writes_to,
          c.writes_held, c.writes_forwarded, c.writes_hold_expired, in_flight, generation,
          static_cast<int>(getpid())),
      "application/json");
}

void FileServer::Count(const httplib::Request& req, const httplib::Response& res) {
  requests_++;
  // What crossed the wire: request line, headers and body in; status line, headers, body out.
  bytes_received_ +=
      static_cast<int64_t>(req.method.size() + req.target.size() + req.version.size() + 4 +
                           HeaderBytes(req.headers) + req.body.size());
  // Streamed bodies were counted as they were sent.
  const int64_t body = req.method == "HEAD" ? 0 : static_cast<int64_t>(res.body.size());
  bytes_sent_ += static_cast<int64_t>(17 + res.reason.size() + HeaderBytes(res.headers)) + body;
}

}  // namespace shadowplane::instance
