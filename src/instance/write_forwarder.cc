#include "instance/write_forwarder.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "instance/asio_duration.h"
#include "instance/fd_body.h"
#include "instance/forward_auth.h"

namespace shadowplane::instance {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

absl::StatusOr<tcp::endpoint> ParseTarget(const std::string& target) {
  const size_t colon = target.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(target.substr(colon + 1), &port) ||
      port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("forward target ", target, " is not IP:port"));
  }
  std::string host = target.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(host, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("forward target ", target, " is not IP:port"));
  }
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

template <class Body>
void SetCommonFields(http::request<Body>& out, const HttpRequest& req, const std::string& target,
                     const std::string& forwarded_by, const std::string& signature) {
  out.method_string(req.method);
  out.target(req.target);
  out.version(11);
  out.set(http::field::host, target);
  out.set(kForwardedByHeader, forwarded_by);
  if (!signature.empty()) out.set(kForwardSignatureHeader, signature);
  out.keep_alive(false);
  const std::string type = req.header("Content-Type");
  if (!type.empty()) out.set(http::field::content_type, type);
}

}  // namespace

absl::StatusOr<ForwardedAnswer> ForwardRequest(const HttpRequest& req, const std::string& target,
                                               const std::string& forwarded_by,
                                               const std::string& signature,
                                               const ForwardLimits& limits) {
  const ForwardLimits& timeouts = limits;
  absl::StatusOr<tcp::endpoint> endpoint = ParseTarget(target);
  if (!endpoint.ok()) return endpoint.status();

  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> answer;
  answer.body_limit(limits.max_answer_bytes);
  beast::error_code failed;
  const char* stage = "connect";

  // The body from its temporary file, through a descriptor of its own (the request keeps its own).
  http::request<FdBody> put;
  http::request<http::empty_body> other;
  const bool with_body = !req.body.empty();
  if (with_body) {
    const int fd = open(req.body.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return absl::InternalError(
          absl::StrCat("cannot reopen the received body: ", strerror(errno)));
    }
    put.body().Reset(fd, static_cast<uint64_t>(req.body.size()));
    SetCommonFields(put, req, target, forwarded_by, signature);
    put.prepare_payload();
  } else {
    SetCommonFields(other, req, target, forwarded_by, signature);
    other.prepare_payload();
  }

  auto on_read = [&](beast::error_code ec, size_t) {
    if (ec) failed = ec;
  };
  auto on_write = [&](beast::error_code ec, size_t) {
    if (ec) {
      failed = ec;
      return;
    }
    stage = "read the answer";
    http::async_read(stream, buffer, answer, on_read);
  };
  stream.expires_after(Chrono(timeouts.connect));
  stream.async_connect(*endpoint, [&](beast::error_code ec) {
    if (ec) {
      failed = ec;
      return;
    }
    stage = "send the request";
    stream.expires_after(Chrono(timeouts.exchange));
    beast::error_code ignored;
    stream.socket().set_option(tcp::no_delay(true), ignored);
    if (with_body) {
      http::async_write(stream, put, on_write);
    } else {
      http::async_write(stream, other, on_write);
    }
  });
  ioc.run();
  if (failed) {
    return absl::UnavailableError(
        absl::StrCat("cannot ", stage, " to ", target, ": ", failed.message()));
  }
  ForwardedAnswer out;
  const auto& msg = answer.get();
  out.status = static_cast<int>(msg.result_int());
  out.content_type = std::string(msg[http::field::content_type]);
  out.body = msg.body();
  out.instance = std::string(msg["X-Shadowplane-Instance"]);
  return out;
}

}  // namespace shadowplane::instance
