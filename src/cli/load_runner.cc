#include "cli/load_runner.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace shadowplane::cli {

namespace {

struct Answer {
  int status = 0;  // 0: none
  std::string instance;
};

// One request on its own connection from `source`; the status and the serving instance.
Answer Send(const LoadRunOptions& o, const in_addr& target, const PlannedRequest& q,
            const std::string& region) {
  Answer answer;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return answer;
  timeval timeout{};
  const int64_t us = absl::ToInt64Microseconds(o.request_timeout);
  timeout.tv_sec = us / 1000000;
  timeout.tv_usec = us % 1000000;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, q.source_address.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(o.port));
  to.sin_addr = target;
  if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    close(fd);
    return answer;
  }
  const std::string path = absl::StrCat("/loadgen/", region, "/", q.client);
  std::string request;
  if (q.write) {
    request = absl::StrCat("PUT ", path, " HTTP/1.1\r\nHost: loadgen\r\nConnection: close\r\n",
                           "Content-Length: ", o.write_bytes, "\r\n\r\n",
                           std::string(static_cast<size_t>(o.write_bytes), 'w'));
  } else {
    request = absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: loadgen\r\nConnection: close\r\n\r\n");
  }
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = write(fd, request.data() + sent, request.size() - sent);
    if (n <= 0) {
      close(fd);
      return answer;
    }
    sent += static_cast<size_t>(n);
  }
  // The whole answer, until the server closes (at most 1 MiB is looked at).
  std::string response;
  char buffer[16384];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    if (response.size() < (1 << 20)) response.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  const size_t head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos || !absl::StartsWith(response, "HTTP/1.")) return answer;
  const std::vector<absl::string_view> lines =
      absl::StrSplit(absl::string_view(response).substr(0, head_end), "\r\n");
  const std::vector<absl::string_view> status = absl::StrSplit(lines[0], ' ');
  if (status.size() < 2 || !absl::SimpleAtoi(status[1], &answer.status)) answer.status = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) continue;
    if (absl::EqualsIgnoreCase(lines[i].substr(0, colon), "X-Shadowplane-Instance")) {
      answer.instance = std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    }
  }
  return answer;
}

}  // namespace

FreezeAsSeen WritesDuring(const std::vector<WriteTiming>& writes, absl::Time from, absl::Time to) {
  FreezeAsSeen out;
  std::vector<absl::Duration> all;
  all.reserve(writes.size());
  for (const WriteTiming& w : writes) {
    all.push_back(w.took);
    if (w.started > to || w.started + w.took < from) continue;
    ++out.writes;
    if (!w.ok) ++out.failed;
    out.slowest = std::max(out.slowest, w.took);
  }
  if (!all.empty()) {
    std::nth_element(all.begin(), all.begin() + static_cast<long>(all.size() / 2), all.end());
    out.typical_write = all[all.size() / 2];
  }
  return out;
}

absl::StatusOr<LoadReport> RunLoad(const LoadPlan& plan, const LoadTrace& trace,
                                   const LoadRunOptions& o,
                                   const std::function<void(const LoadProgress&)>& progress) {
  in_addr fixed_target{};
  const std::string host = o.host == "localhost" ? "127.0.0.1" : o.host;
  if (!o.resolve && (inet_pton(AF_INET, host.c_str(), &fixed_target) != 1 ||
                     (ntohl(fixed_target.s_addr) >> 24) != 127)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--target ", o.host,
                     " is refused: the load generator sends only to an IPv4 loopback "
                     "address (127.0.0.0/8), from loopback client addresses"));
  }
  if (o.port < 1 || o.port > 65535) return absl::InvalidArgumentError("--target: bad port");
  if (o.concurrency < 1 || o.concurrency > 1024) {
    return absl::InvalidArgumentError("--concurrency must be 1 to 1024");
  }
  LoadReport report;
  report.regions.resize(trace.regions.size());
  const int hours = plan.per_hour.empty() ? 0 : static_cast<int>(plan.per_hour[0].size());
  const int first_hour = plan.requests.empty() ? 0 : plan.requests.front().hour;
  for (RegionTally& t : report.regions) t.answered_per_hour.assign(static_cast<size_t>(hours), 0);
  absl::Mutex mu;
  std::atomic<size_t> next{0};
  std::atomic<int64_t> sent{0}, answered{0}, failed{0}, unresolved{0};
  std::atomic<int> hour{first_hour};
  std::atomic<bool> done{false};
  const absl::Time start = absl::Now();
  report.started = start;
  const absl::Time stop_by = start + o.max_time;
  std::vector<std::thread> workers;
  for (int w = 0; w < o.concurrency; ++w) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < plan.requests.size(); i = next++) {
        const PlannedRequest& q = plan.requests[i];
        const absl::Time due = start + q.at;
        if (due > stop_by) break;
        const absl::Time now = absl::Now();
        if (due > now) absl::SleepFor(due - now);
        hour = q.hour;
        const absl::Time began = absl::Now();
        in_addr target = fixed_target;
        bool resolved = true;
        if (o.resolve) {
          absl::StatusOr<std::string> now_at = o.resolve();
          resolved = now_at.ok() && inet_pton(AF_INET, now_at->c_str(), &target) == 1 &&
                     (ntohl(target.s_addr) >> 24) == 127;
          if (!resolved) ++unresolved;
        }
        const Answer a =
            resolved ? Send(o, target, q, trace.regions[static_cast<size_t>(q.region)]) : Answer{};
        const absl::Time answered_at = absl::Now();
        ++sent;
        const bool ok = a.status > 0 && a.status < 500;
        ok ? ++answered : ++failed;
        absl::MutexLock lock(&mu);
        if (q.write) report.writes.push_back({began, answered_at - began, ok});
        RegionTally& t = report.regions[static_cast<size_t>(q.region)];
        ++t.sent;
        if (ok) {
          ++t.answered;
          ++t.answered_per_hour[static_cast<size_t>(q.hour - first_hour)];
          ++t.answered_per_wall_hour[absl::ToUnixSeconds(answered_at) / 3600 * 3600];
          if (!a.instance.empty()) ++t.served_by[a.instance];
        } else {
          ++t.failed;
        }
      }
    });
  }
  std::thread reporter;
  if (progress) {
    reporter = std::thread([&] {
      while (!done.load()) {
        for (int i = 0; i < 10 && !done.load(); ++i) absl::SleepFor(absl::Milliseconds(100));
        progress({sent.load(), answered.load(), failed.load(),
                  static_cast<int64_t>(plan.requests.size()), hour.load()});
      }
    });
  }
  for (std::thread& w : workers) w.join();
  done = true;
  if (reporter.joinable()) reporter.join();
  report.elapsed = absl::Now() - start;
  report.not_sent = static_cast<int64_t>(plan.requests.size()) - sent.load();
  report.unresolved = unresolved.load();
  return report;
}

}  // namespace shadowplane::cli
