// The real servers traffic switching is tested against, started on loopback by a test and killed
// with it: Knot DNS (an authoritative zone taking TSIG-signed updates) and HAProxy (a runtime
// socket at admin level, backends with a serving slot).
#ifndef SHADOWPLANE_TESTS_SUPPORT_TRAFFIC_SERVERS_H_
#define SHADOWPLANE_TESTS_SUPPORT_TRAFFIC_SERVERS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "support/child_process.h"

namespace shadowplane::testing {

class KnotServer {
 public:
  // Serves `zone` (e.g. "svc.test.") on 127.0.0.1, updatable with TSIG key `key_name`
  // (hmac-sha256, a fresh secret).
  static absl::StatusOr<std::unique_ptr<KnotServer>> Start(const std::string& zone,
                                                           const std::string& key_name);
  int port() const { return port_; }
  std::string address() const;  // "127.0.0.1:PORT"
  const std::string& secret() const { return secret_; }
  // kdig's answer section for `name` and `type` (empty when none), e.g. "shop.svc.test. 30 IN A
  // 127.0.0.1".
  std::string Dig(const std::string& name, const std::string& type = "A") const;

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string dir_;
  int port_ = 0;
  std::string secret_;
};

class HaproxyServer {
 public:
  // One frontend per backend, each backend with stick-on-source and one server slot "live" in
  // maintenance. Frontend ports in backends' order.
  // `backend_options`, when given, is one more line in every backend (e.g. "http-reuse never").
  static absl::StatusOr<std::unique_ptr<HaproxyServer>> Start(
      const std::vector<std::string>& backends, const std::string& backend_options = "");
  const std::string& socket() const { return socket_; }
  const std::string& state_file() const { return state_file_; }
  int frontend_port(size_t i) const { return ports_[i]; }
  // The runtime API's answer, through socat (HAProxy's own tool chain reads it the same way).
  std::string Ask(const std::string& command) const;

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string dir_;
  std::string socket_;
  std::string state_file_;
  std::vector<int> ports_;
};

}  // namespace shadowplane::testing

#endif  // SHADOWPLANE_TESTS_SUPPORT_TRAFFIC_SERVERS_H_
