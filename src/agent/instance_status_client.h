// The agent's side of an instance's status endpoint (GET /_shadowplane/status, see
// instance/file_server.h): who is serving, which config generation it has applied (the reload
// handshake: the agent saves a config with the next generation, signals SIGHUP, and waits for the
// instance to report it), and its traffic counters. One kept-alive connection; not thread-safe.
#ifndef SHADOWPLANE_AGENT_INSTANCE_STATUS_CLIENT_H_
#define SHADOWPLANE_AGENT_INSTANCE_STATUS_CLIENT_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "instance/disruption_log.h"

namespace httplib {
class Client;
}  // namespace httplib

namespace shadowplane::agent {

struct InstanceStatus {
  int64_t generation = 0;
  int64_t pid = 0;
  int64_t requests = 0;
  int64_t bytes_received = 0;
  int64_t bytes_sent = 0;
};

class InstanceStatusClient {
 public:
  // `agent_key` (the instance's; instance/forward_auth.h) opens the views that name clients.
  InstanceStatusClient(const std::string& address, int port, absl::Duration read_timeout,
                       const std::string& agent_key = "");
  ~InstanceStatusClient();

  // UNAVAILABLE when the instance does not answer, or answers with something else.
  absl::StatusOr<InstanceStatus> Get();
  // Whether the process `pid` answers there: asking for its pid, not just connecting, matters, as
  // another program listening there would otherwise pass for the instance.
  bool ServesAs(pid_t pid);
  // GET /_shadowplane/disruptions?since_us=...: per client, what moves did since `since`.
  absl::StatusOr<instance::DisruptionReport> Disruptions(absl::Time since);
  // Asks until the instance reports `generation` (or a later one) applied: again after 0.2 ms,
  // doubling to 2 ms (a reload takes well under a millisecond unless writes are being applied,
  // and a cutover's freeze waits for it). DEADLINE_EXCEEDED at `deadline`.
  absl::Status AwaitGeneration(int64_t generation, absl::Time deadline);

 private:
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace shadowplane::agent

#endif  // SHADOWPLANE_AGENT_INSTANCE_STATUS_CLIENT_H_
