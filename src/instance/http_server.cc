#include "instance/http_server.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <list>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/listen_address.h"
#include "common/log.h"
#include "instance/asio_duration.h"
#include "instance/fd_body.h"
#include "instance/resizable_thread_pool.h"

namespace shadowplane::instance {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr size_t kBodyChunk = 64 * 1024;
constexpr size_t kFirstRead = 4096;
constexpr char kBusy[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n"
    "Content-Length: 41\r\nConnection: close\r\n\r\nthis instance has too many connections.\r\n";
constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

// Writes all of `data` to `fd`; false on a write error (errno set).
bool WriteAll(int fd, const char* data, size_t length) {
  while (length > 0) {
    const ssize_t n = write(fd, data, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    length -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

class HttpServer::Impl {
 public:
  class Connection;

  Impl(HttpServerOptions options, RequestHandler* handler)
      : options_(std::move(options)),
        handler_(handler),
        acceptor_(ioc_),
        accept_retry_(ioc_),
        pool_(options_.workers) {}

  ~Impl() { pool_.Shutdown(); }

  absl::Status Bind();
  void Serve();
  void Stop();
  void Redispatch();
  void Accept();
  // Makes room for a new connection: closes the one idle the longest. False when none is idle.
  bool CloseOldestIdle();
  void CloseAll();

  HttpServerOptions options_;
  RequestHandler* handler_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer accept_retry_;
  ResizableThreadPool pool_;
  // Touched on the I/O thread only.
  std::list<std::weak_ptr<Connection>> connections_;

  absl::Mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;

  std::atomic<int64_t> requests_{0}, bytes_received_{0}, bytes_sent_{0}, accepted_{0}, open_{0},
      idle_{0}, idle_closed_{0}, refused_{0}, timeouts_{0}, in_progress_{0}, held_{0};
};

// One client connection, driven by the I/O thread: idle -> header -> body -> dispatch -> (held |
// work) -> answer -> idle. Owned by the handlers of its pending operations (shared_ptr).
class HttpServer::Impl::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Impl* server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)), hold_timer_(server->ioc_) {}

  void Start(std::list<std::weak_ptr<Connection>>::iterator self) {
    registered_ = self;
    AwaitRequest();
  }
  bool idle() const { return idle_; }
  std::chrono::steady_clock::time_point idle_since() const { return idle_since_; }
  bool held() const { return holding_; }

  // The single way out: every path that ends the connection comes here. On the I/O thread.
  void Close() {
    if (closed_) return;
    closed_ = true;
    SetIdle(false);
    if (holding_) {
      holding_ = false;
      server_->held_--;
      hold_timer_.cancel();
    }
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
    server_->connections_.erase(registered_);
    server_->open_--;
  }

  // A held request: ask the handler again (its state changed).
  void Redispatch() {
    if (!holding_ || closed_) return;
    holding_ = false;
    server_->held_--;
    ++hold_generation_;
    hold_timer_.cancel();
    Dispatch();
  }

 private:
  void SetIdle(bool idle) {
    if (idle == idle_) return;
    idle_ = idle;
    server_->idle_ += idle ? 1 : -1;
    if (idle) idle_since_ = std::chrono::steady_clock::now();
  }

  // Waits for the first byte of the next request; an idle connection holds nothing but a socket.
  void AwaitRequest() {
    if (closed_) return;
    if (buffer_.size() > 0) return ReadHeader();  // pipelined
    SetIdle(true);
    stream_.expires_after(Chrono(server_->options_.idle_timeout));
    stream_.async_read_some(buffer_.prepare(kFirstRead),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (self->closed_) return;
                              self->SetIdle(false);
                              if (ec) {
                                if (ec == beast::error::timeout) self->server_->timeouts_++;
                                return self->Close();
                              }
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(server_->options_.max_header_bytes);
    parser_->body_limit(server_->options_.max_body_bytes);
    req_ = HttpRequest();
    stream_.expires_after(Chrono(server_->options_.header_timeout));
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t n) { self->OnHeader(ec, n); });
  }

  void OnHeader(beast::error_code ec, size_t n) {
    if (closed_) return;
    server_->bytes_received_ += static_cast<int64_t>(n);
    if (ec) return ReadFailed(ec);
    exchange_ = ExchangeStats();
    exchange_.bytes_in = static_cast<int64_t>(n);
    started_ = absl::Now();
    const auto& msg = parser_->get();
    req_.method = std::string(msg.method_string());
    req_.target = std::string(msg.target());
    for (const auto& field : msg) {
      req_.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    keep_alive_ = msg.keep_alive();
    req_.keep_alive = keep_alive_;
    if (peer_.empty()) {
      beast::error_code peer_error;
      const tcp::endpoint remote = stream_.socket().remote_endpoint(peer_error);
      peer_ = peer_error ? "unknown" : remote.address().to_string();
    }
    req_.peer = peer_;
    version_ = msg.version();
    head_ = msg.method() == http::verb::head;

    HttpResponse res;
    if (server_->handler_->OnHeader(req_, &res) == RequestHandler::Next::kAnswer) {
      if (!parser_->is_done()) res.close = true;  // its body stays unread
      return Respond(std::move(res));
    }
    if (parser_->is_done()) return Dispatch();
    // A body: into a temporary file, never into memory.
    std::string path = absl::StrCat(server_->options_.spool_dir, "/body-XXXXXX");
    const int fd = mkostemp(path.data(), O_CLOEXEC);
    if (fd < 0) {
      HttpResponse failed;
      failed.Reply(507, absl::StrCat("cannot receive the body: ", strerror(errno)));
      failed.close = true;
      return Respond(std::move(failed));
    }
    req_.body = SpooledBody(path, fd);
    if (!body_buffer_) body_buffer_.reset(new char[kBodyChunk]);  // not zeroed: it is written to
    if (beast::iequals(msg[http::field::expect], "100-continue")) {
      // The client waits for this before it sends the body.
      stream_.expires_after(Chrono(server_->options_.write_timeout));
      net::async_write(stream_, net::buffer(kContinue, sizeof(kContinue) - 1),
                       [self = shared_from_this()](beast::error_code ec, size_t n) {
                         if (self->closed_) return;
                         self->server_->bytes_sent_ += static_cast<int64_t>(n);
                         self->exchange_.bytes_out += static_cast<int64_t>(n);
                         if (ec) return self->Close();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return Dispatch();
    parser_->get().body().data = body_buffer_.get();
    parser_->get().body().size = kBodyChunk;
    stream_.expires_after(Chrono(server_->options_.read_timeout));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t n) { self->OnBody(ec, n); });
  }

  void OnBody(beast::error_code ec, size_t n) {
    if (closed_) return;
    server_->bytes_received_ += static_cast<int64_t>(n);
    exchange_.bytes_in += static_cast<int64_t>(n);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return ReadFailed(ec);
    const size_t got = kBodyChunk - parser_->get().body().size;
    if (got > 0) {
      if (!WriteAll(req_.body.fd(), body_buffer_.get(), got)) {
        HttpResponse failed;
        failed.Reply(507, absl::StrCat("cannot store the body: ", strerror(errno)));
        failed.close = true;
        return Respond(std::move(failed));
      }
      req_.body.add_size(static_cast<int64_t>(got));
    }
    ReadBody();
  }

  // A request that could not be read: answered when that helps the client, then closed.
  void ReadFailed(beast::error_code ec) {
    HttpResponse res;
    res.close = true;
    if (ec == beast::error::timeout) {
      server_->timeouts_++;
      return Close();  // a client that sends nothing would not read an answer either
    }
    if (ec == http::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::connection_reset || ec == net::error::operation_aborted ||
        ec == http::error::partial_message) {
      return Close();
    }
    if (ec == http::error::header_limit) {
      res.Reply(431, "request header too large");
    } else if (ec == http::error::body_limit) {
      res.Reply(413,
                absl::StrCat("request body above ", server_->options_.max_body_bytes, " bytes"));
    } else {
      res.Reply(400, absl::StrCat("malformed request: ", ec.message()));
    }
    Respond(std::move(res));
  }

  void Dispatch() {
    if (closed_) return;
    HttpResponse res;
    switch (server_->handler_->Dispatch(req_, &res)) {
      case RequestHandler::Next::kAnswer:
        return Respond(std::move(res));
      case RequestHandler::Next::kHold:
        return Hold();
      case RequestHandler::Next::kWork:
        break;
    }
    server_->in_progress_++;
    server_->pool_.Enqueue([self = shared_from_this()] {
      auto res = std::make_shared<HttpResponse>();
      self->server_->handler_->Work(self->req_, res.get());
      self->server_->in_progress_--;
      net::post(self->server_->ioc_, [self, res] { self->Respond(std::move(*res)); });
    });
  }

  // Waits (no worker, no read) until Redispatch() or the request's hold_until.
  void Hold() {
    holding_ = true;
    server_->held_++;
    const uint64_t generation = ++hold_generation_;
    const absl::Duration left = std::max(absl::ZeroDuration(), req_.hold_until - absl::Now());
    hold_timer_.expires_after(Chrono(left));
    hold_timer_.async_wait([self = shared_from_this(), generation](beast::error_code ec) {
      if (ec || self->closed_ || !self->holding_ || generation != self->hold_generation_) return;
      self->holding_ = false;
      self->server_->held_--;
      HttpResponse res;
      self->server_->handler_->HoldExpired(self->req_, &res);
      self->Respond(std::move(res));
    });
  }

  void Respond(HttpResponse res) {
    if (closed_) return;
    server_->handler_->Decorate(req_, &res);
    exchange_.status = res.status;
    req_.body = SpooledBody();  // whatever the handler left of it goes now
    const bool close = res.close || !keep_alive_;
    const auto status = static_cast<http::status>(res.status);
    auto fill = [&](auto& msg) {
      msg.result(status);
      msg.version(version_);
      msg.keep_alive(!close);
      for (auto& [name, value] : res.headers) msg.insert(name, value);
      if (res.status != 204 && res.status != 304)
        msg.set(http::field::content_type, res.content_type);
    };
    if (head_ || res.status == 204 || res.status == 304) {
      auto msg = std::make_shared<http::response<http::empty_body>>();
      fill(*msg);
      if (res.status != 204 && res.status != 304) {
        msg->content_length(res.file_fd >= 0 ? static_cast<uint64_t>(res.file_size)
                                             : res.body.size());
      }
      return Write(msg, close);
    }
    if (res.file_fd >= 0) {
      auto msg = std::make_shared<http::response<FdBody>>();
      fill(*msg);
      msg->body().Reset(std::exchange(res.file_fd, -1), static_cast<uint64_t>(res.file_size));
      msg->prepare_payload();
      return Write(msg, close);
    }
    auto msg = std::make_shared<http::response<http::string_body>>();
    fill(*msg);
    msg->body() = std::move(res.body);
    msg->prepare_payload();
    Write(msg, close);
  }

  template <class Message>
  void Write(std::shared_ptr<Message> msg, bool close) {
    using Serializer = http::serializer<false, typename Message::body_type>;
    auto serializer = std::make_shared<Serializer>(*msg);
    WriteSome(std::move(msg), std::move(serializer), close);
  }

  // A part at a time, each within write_timeout: a large file to a slow reader is fine, a reader
  // that stops is not.
  template <class Message, class Serializer>
  void WriteSome(std::shared_ptr<Message> msg, std::shared_ptr<Serializer> serializer, bool close) {
    stream_.expires_after(Chrono(server_->options_.write_timeout));
    http::async_write_some(
        stream_, *serializer,
        [self = shared_from_this(), msg, serializer, close](beast::error_code ec, size_t n) {
          if (self->closed_) return;
          self->server_->bytes_sent_ += static_cast<int64_t>(n);
          self->exchange_.bytes_out += static_cast<int64_t>(n);
          if (ec) {
            if (ec == beast::error::timeout) self->server_->timeouts_++;
            return self->Close();
          }
          if (!serializer->is_done()) return self->WriteSome(msg, serializer, close);
          self->server_->requests_++;
          self->exchange_.latency = absl::Now() - self->started_;
          self->server_->handler_->Completed(self->req_, self->exchange_);
          if (close) return self->Close();
          self->AwaitRequest();
        });
  }

  Impl* server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::buffer_body>> parser_;
  std::unique_ptr<char[]> body_buffer_;
  HttpRequest req_;
  bool keep_alive_ = true;
  std::string peer_;        // the remote address, read once
  ExchangeStats exchange_;  // of the request in progress
  absl::Time started_;      // when its header arrived
  unsigned version_ = 11;
  bool head_ = false;
  bool closed_ = false;
  bool idle_ = false;
  std::chrono::steady_clock::time_point idle_since_;
  bool holding_ = false;
  uint64_t hold_generation_ = 0;
  net::steady_timer hold_timer_;
  std::list<std::weak_ptr<Connection>>::iterator registered_;
};

absl::Status HttpServer::Impl::Bind() {
  const std::string where = absl::StrCat(options_.address, ":", options_.port);
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(options_.address, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot listen on ", where, ": not an IP address"));
  }
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(options_.port));
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.close(ec);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot listen on ", where, ": ", DiagnoseBindFailure(where)));
  }
  return absl::OkStatus();
}

void HttpServer::Impl::Serve() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    serving_ = true;
  }
  Accept();
  auto guard = net::make_work_guard(ioc_);
  ioc_.run();
  // Stopped: nothing else runs the loop now, so the connections can be closed from here.
  CloseAll();
}

void HttpServer::Impl::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
  }
  ioc_.stop();
}

void HttpServer::Impl::CloseAll() {
  beast::error_code ec;
  acceptor_.close(ec);
  std::vector<std::shared_ptr<Connection>> live;
  for (auto& weak : connections_) {
    if (auto c = weak.lock()) live.push_back(std::move(c));
  }
  for (auto& c : live) c->Close();
}

void HttpServer::Impl::Redispatch() {
  net::post(ioc_, [this] {
    std::vector<std::shared_ptr<Connection>> held;
    for (auto& weak : connections_) {
      if (auto c = weak.lock(); c && c->held()) held.push_back(std::move(c));
    }
    for (auto& c : held) c->Redispatch();
  });
}

bool HttpServer::Impl::CloseOldestIdle() {
  std::shared_ptr<Connection> oldest;
  for (auto& weak : connections_) {
    auto c = weak.lock();
    if (!c || !c->idle()) continue;
    if (!oldest || c->idle_since() < oldest->idle_since()) oldest = std::move(c);
  }
  if (!oldest) return false;
  oldest->Close();
  idle_closed_++;
  return true;
}

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(ioc_, [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      accepted_++;
      if (open_.load() >= options_.max_connections && !CloseOldestIdle()) {
        refused_++;
        beast::error_code ignored;
        net::write(socket, net::buffer(kBusy, sizeof(kBusy) - 1), ignored);
        socket.close(ignored);
      } else {
        beast::error_code ignored;
        // Header and body leave in separate writes: without this, Nagle holds the second until
        // the peer's delayed ACK (tens of milliseconds per request on a kept-alive connection).
        socket.set_option(tcp::no_delay(true), ignored);
        open_++;
        auto c = std::make_shared<Connection>(this, std::move(socket));
        connections_.push_front(c);
        c->Start(connections_.begin());
      }
    } else {
      // Out of descriptors and the like: accept again after a breath, not in a busy loop.
      LOG_EVENT(kWarning, "instance accept failed").Field("error", ec.message());
      accept_retry_.expires_after(std::chrono::milliseconds(100));
      accept_retry_.async_wait([this](beast::error_code wait) {
        if (!wait) Accept();
      });
      return;
    }
    Accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options, RequestHandler* handler)
    : impl_(std::make_unique<Impl>(std::move(options), handler)) {}

HttpServer::~HttpServer() {
  Stop();
  impl_->pool_.Shutdown();
}

absl::Status HttpServer::Bind() { return impl_->Bind(); }
void HttpServer::Serve() { impl_->Serve(); }
void HttpServer::Stop() { impl_->Stop(); }
void HttpServer::Redispatch() { impl_->Redispatch(); }
void HttpServer::SetWorkers(int workers) { impl_->pool_.Resize(workers); }
int HttpServer::workers() const { return impl_->pool_.target(); }

HttpServerCounters HttpServer::counters() const {
  const Impl& i = *impl_;
  return {i.requests_.load(), i.bytes_received_.load(), i.bytes_sent_.load(),  i.accepted_.load(),
          i.open_.load(),     i.idle_.load(),           i.idle_closed_.load(), i.refused_.load(),
          i.timeouts_.load(), i.in_progress_.load(),    i.held_.load()};
}

}  // namespace shadowplane::instance
