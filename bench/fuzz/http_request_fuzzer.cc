// Fuzzes the instance's reading of an HTTP request (instance/http_server.h): the bytes go
// through the same Beast parser with the same limits (16 KiB of header, a body bound, chunked or
// not), and the header as parsed goes through what the instance makes of it: the path
// (instance/request_path.h), the client's address from X-Forwarded-For (instance/client_address.h),
// the client id (instance/access_log.h) and the forwarding signature (instance/forward_auth.h).
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "instance/access_log.h"
#include "instance/client_address.h"
#include "instance/forward_auth.h"
#include "instance/request_path.h"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::request_parser<http::buffer_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  const char* at = reinterpret_cast<const char*>(data);
  size_t left = size;
  char body[4096];
  while (left > 0 && !parser.is_done()) {
    parser.get().body().data = body;
    parser.get().body().size = sizeof(body);
    const size_t used = parser.put(boost::asio::buffer(at, left), ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) break;
    if (used == 0 && parser.get().body().size == sizeof(body)) break;  // needs more than we have
    at += used;
    left -= used;
  }
  if (!parser.is_header_done()) return 0;
  const auto& msg = parser.get();
  std::vector<std::pair<std::string, std::string>> headers;
  std::string forwarded_by, signature, client_id;
  for (const auto& field : msg) {
    const std::string name(field.name_string()), value(field.value());
    headers.emplace_back(name, value);
    if (name == "X-Shadowplane-Forwarded-By") forwarded_by = value;
    if (name == "X-Shadowplane-Forward-Signature") signature = value;
    if (name == "X-Client-Id") client_id = value;
  }
  const std::string target(msg.target());
  auto path = shadowplane::instance::ResolveRequestPath(target);
  if (path.ok()) {
    if (!path->empty() && path->front() == '/') std::abort();  // absolute
    for (absl::string_view part : absl::StrSplit(*path, '/')) {
      if (part == "." || part == ".." || part.find('\0') != absl::string_view::npos) {
        std::abort();  // a path leaving the data
      }
    }
  }
  (void)shadowplane::instance::ClientAddressOf(headers, "127.0.0.1", {"127.0.0.1", "::1"});
  (void)shadowplane::instance::UsableClientId(client_id);
  static const std::string secret(64, 'a');
  (void)shadowplane::instance::VerifyForward(secret, signature, std::string(msg.method_string()),
                                             target, forwarded_by, absl::Now());
  return 0;
}
