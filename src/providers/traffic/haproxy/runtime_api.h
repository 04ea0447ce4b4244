// HAProxy's runtime API on its stats socket (`stats socket PATH level admin`): one command per
// connection, the answer read until HAProxy closes it. Thread-safe (no shared state).
#ifndef SHADOWPLANE_PROVIDERS_TRAFFIC_HAPROXY_RUNTIME_API_H_
#define SHADOWPLANE_PROVIDERS_TRAFFIC_HAPROXY_RUNTIME_API_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shadowplane::providers::haproxy {

class RuntimeApi {
 public:
  RuntimeApi(std::string socket_path, absl::Duration timeout)
      : socket_path_(std::move(socket_path)), timeout_(timeout) {}

  // The answer to `command`. UNAVAILABLE when the socket cannot be reached or answers nothing
  // within the timeout.
  absl::StatusOr<std::string> Run(const std::string& command) const;

  const std::string& socket_path() const { return socket_path_; }

 private:
  const std::string socket_path_;
  const absl::Duration timeout_;
};

// One server's row of `show servers state`, by column name (srv_name, srv_addr, srv_port,
// srv_admin_state, ...).
using ServerState = std::map<std::string, std::string>;

// Parses `show servers state [BACKEND]`: the version line, the "# column ..." header, then a row
// per server. INVALID_ARGUMENT for any other text (HAProxy's own error, e.g. "Can't find
// backend.", is in the message).
absl::StatusOr<std::vector<ServerState>> ParseServersState(const std::string& text);

}  // namespace shadowplane::providers::haproxy

#endif  // SHADOWPLANE_PROVIDERS_TRAFFIC_HAPROXY_RUNTIME_API_H_
