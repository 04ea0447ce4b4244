#include "providers/instance_probe.h"

#include <httplib.h>

#include "absl/strings/numbers.h"

namespace shadowplane::providers {

bool InstanceAnswers(const std::string& endpoint, absl::Duration timeout) {
  const size_t colon = endpoint.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(endpoint.substr(colon + 1), &port)) {
    return false;
  }
  httplib::Client client(endpoint.substr(0, colon), port);
  const auto seconds = absl::ToInt64Seconds(timeout);
  const auto micros = absl::ToInt64Microseconds(timeout - absl::Seconds(seconds));
  client.set_connection_timeout(seconds, micros);
  client.set_read_timeout(seconds, micros);
  size_t read = 0;
  auto res = client.Get("/_shadowplane/status", [&read](const char*, size_t n) {
    read += n;
    return read <= 64 * 1024;
  });
  return res && res->status == 200;
}

}  // namespace shadowplane::providers
