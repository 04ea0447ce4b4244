// A shadowplane-agent started by a test: free ports, a loopback /24 of its own (so tests running
// at once never meet), a data root under `root`. Destroying it kills the agent and every instance
// it started (instances outlive an agent by design, so the test must stop them).
#ifndef SHADOWPLANE_TESTS_SUPPORT_AGENT_UNDER_TEST_H_
#define SHADOWPLANE_TESTS_SUPPORT_AGENT_UNDER_TEST_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "support/child_process.h"

namespace shadowplane::testing {

class AgentUnderTest {
 public:
  AgentUnderTest(std::string binary, std::string root, std::string location);
  ~AgentUnderTest();

  // Starts (or starts again, on the same data root, ports and network) and waits until it serves.
  // `env` entries ("NAME=value") are added to its environment.
  // DEADLINE_EXCEEDED, with its output, when it has not said it started within `timeout`.
  absl::Status Start(const std::vector<std::string>& env = {},
                     absl::Duration timeout = absl::Seconds(30));
  // The control plane's addresses (--control_plane) from the next Start() on.
  void set_control_plane(std::string addresses) { control_plane_ = std::move(addresses); }
  // More flags ("--name=value") from the next Start() on.
  void set_extra_flags(std::vector<std::string> flags) { extra_flags_ = std::move(flags); }
  // SIGKILL, as a crash would.
  void Kill();

  std::string endpoint() const;  // host:port of its gRPC service
  int metrics_port() const { return metrics_port_; }
  const std::string& network() const { return network_; }
  int instance_port() const { return instance_port_; }
  std::string data_root() const { return root_ + "/data"; }
  ChildProcess& process() { return *process_; }

 private:
  std::string binary_, root_, location_, network_, control_plane_;
  std::vector<std::string> extra_flags_;
  int grpc_port_ = 0, metrics_port_ = 0, instance_port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace shadowplane::testing

#endif  // SHADOWPLANE_TESTS_SUPPORT_AGENT_UNDER_TEST_H_
