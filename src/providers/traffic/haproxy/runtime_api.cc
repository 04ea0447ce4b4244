#include "providers/traffic/haproxy/runtime_api.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/unique_fd.h"

namespace shadowplane::providers::haproxy {

namespace {

absl::Status Unavailable(const std::string& path, const char* what, int err) {
  return absl::UnavailableError(
      absl::StrCat("HAProxy runtime socket ", path, ": ", what, ": ", std::strerror(err)));
}

// Waits until `fd` is ready for `events` or the deadline passes.
bool WaitFor(int fd, short events, absl::Time deadline) {
  for (;;) {
    const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (ms <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, static_cast<int>(ms));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

}  // namespace

absl::StatusOr<std::string> RuntimeApi::Run(const std::string& command) const {
  const absl::Time deadline = absl::Now() + timeout_;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("HAProxy runtime socket path is too long: ", socket_path_));
  }
  std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) return Unavailable(socket_path_, "socket", errno);
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 &&
      errno != EINPROGRESS) {
    return Unavailable(socket_path_, "connect", errno);
  }
  const std::string line = command + "\n";
  size_t sent = 0;
  while (sent < line.size()) {
    if (!WaitFor(fd.get(), POLLOUT, deadline)) {
      return absl::UnavailableError(
          absl::StrCat("HAProxy runtime socket ", socket_path_, ": timed out sending"));
    }
    const ssize_t n = send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return Unavailable(socket_path_, "send", errno);
    }
    sent += static_cast<size_t>(n);
  }
  std::string answer;
  char buffer[16384];
  for (;;) {
    if (!WaitFor(fd.get(), POLLIN, deadline)) {
      return absl::UnavailableError(absl::StrCat("HAProxy runtime socket ", socket_path_,
                                                 ": no complete answer to \"", command,
                                                 "\" within ", absl::FormatDuration(timeout_)));
    }
    const ssize_t n = recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n == 0) break;  // HAProxy closes after the answer
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return Unavailable(socket_path_, "recv", errno);
    }
    answer.append(buffer, static_cast<size_t>(n));
  }
  return answer;
}

absl::StatusOr<std::vector<ServerState>> ParseServersState(const std::string& text) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n', absl::SkipWhitespace());
  if (lines.size() < 2 || !absl::StartsWith(lines[1], "# ")) {
    return absl::InvalidArgumentError(
        absl::StrCat("HAProxy answered: ", absl::StripAsciiWhitespace(text)));
  }
  const std::vector<absl::string_view> columns =
      absl::StrSplit(lines[1].substr(2), ' ', absl::SkipEmpty());
  std::vector<ServerState> out;
  for (size_t i = 2; i < lines.size(); ++i) {
    const std::vector<absl::string_view> values = absl::StrSplit(lines[i], ' ', absl::SkipEmpty());
    ServerState row;
    for (size_t c = 0; c < columns.size() && c < values.size(); ++c) {
      row[std::string(columns[c])] = std::string(values[c]);
    }
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace shadowplane::providers::haproxy
