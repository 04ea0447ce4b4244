#include "common/listen_address.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace shadowplane {

namespace {

// Why `host_port` cannot be bound now; empty when it can.
std::string TryBind(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) return "expected host:port";
  std::string host = host_port.substr(0, colon);
  const std::string port = host_port.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  struct addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  struct addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
      rc != 0) {
    return absl::StrCat("cannot resolve '", host_port, "': ", gai_strerror(rc));
  }
  std::string reason;
  for (struct addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      reason = strerror(errno);
      if (errno == EADDRINUSE) reason += " (another process listens there)";
      close(fd);
      break;
    }
    close(fd);
  }
  freeaddrinfo(found);
  return reason;
}

}  // namespace

bool CanBind(const std::string& host_port, std::string* why) {
  *why = TryBind(host_port);
  return why->empty();
}

std::string DiagnoseBindFailure(const std::string& host_port) {
  std::string reason = TryBind(host_port);
  return reason.empty() ? "unknown reason (it could be bound a moment later)" : reason;
}

}  // namespace shadowplane
