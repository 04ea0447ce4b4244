// A real Prometheus (Debian's package) for tests, on 127.0.0.1 with a fresh TSDB: it scrapes the
// given targets every second, evaluates the given rule files every second, and answers queries
// through its HTTP API. Killed with the test.
#ifndef SHADOWPLANE_TESTS_SUPPORT_PROMETHEUS_SERVER_H_
#define SHADOWPLANE_TESTS_SUPPORT_PROMETHEUS_SERVER_H_

#include <google/protobuf/struct.pb.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "support/child_process.h"

namespace shadowplane::testing {

// Prometheus' HTTP API on 127.0.0.1:`port` (a server of this file's, or one a script started).
class PrometheusClient {
 public:
  explicit PrometheusClient(int port) : port_(port) {}

  // GET /api/v1/<path>?<query> (form-encoded values), its JSON answer parsed; an error when the
  // server did not answer 200 or the answer is not JSON.
  absl::StatusOr<google::protobuf::Struct> Api(const std::string& path,
                                               const std::map<std::string, std::string>& query);
  // An instant query's result vector (`data.result`); the error Prometheus gave, if any.
  absl::StatusOr<google::protobuf::ListValue> Query(const std::string& expr);

  int port() const { return port_; }

 protected:
  int port_ = 0;
};

class PrometheusServer : public PrometheusClient {
 public:
  // `jobs`: job name -> "host:port" targets serving /metrics.
  static absl::StatusOr<std::unique_ptr<PrometheusServer>> Start(
      const std::map<std::string, std::vector<std::string>>& jobs,
      const std::vector<std::string>& rule_files);
  ~PrometheusServer();

  std::string Output() const { return process_ == nullptr ? "" : process_->Output(); }

 private:
  PrometheusServer() : PrometheusClient(0) {}
  std::unique_ptr<ChildProcess> process_;
  std::string dir_;
};

}  // namespace shadowplane::testing

#endif  // SHADOWPLANE_TESTS_SUPPORT_PROMETHEUS_SERVER_H_
