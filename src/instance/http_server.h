// An event-driven HTTP/1.1 server (Boost.Beast on Asio) in which an open connection costs no
// worker thread: one I/O thread accepts, reads and writes every connection; only the work of a
// request (disk, forwarding) runs on a pool of worker threads whose size is the instance's
// capacity. So a load balancer's idle pooled connections, or slow clients, never keep another
// client's request waiting.
//
// Bounds (HttpServerOptions): a request's header must arrive within `header_timeout` of its first
// byte; each `body_chunk` of a body within `read_timeout`; each part of an answer must leave within
// `write_timeout`; a connection with no request for `idle_timeout` is closed. At most
// `max_connections` are open: a new one closes the connection idle the longest, or is refused
// (503, closed) when none is idle.
//
// A request goes through the RequestHandler in three steps: its header (may answer at once, e.g.
// 429), its dispatch once the body is in a temporary file (answer, queue for work, or hold until
// Redispatch()), and its work on a worker thread. Thread-safe: Stop(), Redispatch(), SetWorkers()
// and the counters from any thread.
#ifndef SHADOWPLANE_INSTANCE_HTTP_SERVER_H_
#define SHADOWPLANE_INSTANCE_HTTP_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "instance/http_message.h"

namespace shadowplane::instance {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  int port = 0;
  // Where request bodies are received before the handler takes them. For an atomic rename into
  // the served files it must be on their file system.
  std::string spool_dir;
  int workers = 1;
  int max_connections = 512;
  absl::Duration header_timeout = absl::Seconds(10);
  absl::Duration read_timeout = absl::Seconds(30);
  absl::Duration write_timeout = absl::Seconds(30);
  absl::Duration idle_timeout = absl::Seconds(60);
  uint64_t max_body_bytes = uint64_t{1} << 30;
  uint32_t max_header_bytes = 16 * 1024;
};

struct HttpServerCounters {
  int64_t requests = 0;  // answers sent
  int64_t bytes_received = 0;
  int64_t bytes_sent = 0;
  int64_t connections_accepted = 0;
  int64_t connections_open = 0;
  int64_t connections_idle = 0;
  int64_t idle_closed_for_room = 0;  // idle connections closed to admit a new one
  int64_t connections_refused = 0;   // refused with no idle connection to close
  int64_t timeouts = 0;              // connections closed by a header, body, write or idle timeout
  int64_t requests_in_progress = 0;  // queued for a worker or running on one
  int64_t requests_held = 0;         // waiting for Redispatch()
};

// What one exchange moved and took, as the connection saw it: the request's header and body bytes
// read, the answer's bytes written, and the time from its header's arrival to the answer's last
// byte leaving.
struct ExchangeStats {
  int status = 0;
  int64_t bytes_in = 0;
  int64_t bytes_out = 0;
  absl::Duration latency;
};

// What the server asks of the code that serves requests. Calls named "on the I/O thread" must not
// block: every connection waits while they run.
class RequestHandler {
 public:
  enum class Next { kAnswer, kWork, kHold };
  virtual ~RequestHandler() = default;

  // On the I/O thread, once the header is read (no body yet). kAnswer: `res` is the answer and a
  // body, if any, is not read (the connection then closes). kWork: read the body, if any, into a
  // temporary file, then Dispatch(). kHold is not allowed here.
  virtual Next OnHeader(HttpRequest& req, HttpResponse* res) = 0;
  // On the I/O thread, with the body in `req.body`. kAnswer: send `res`. kWork: run Work() on a
  // worker. kHold: wait until Redispatch() or `req.hold_until`, whichever comes first (then
  // HoldExpired()). Called again for a held request after each Redispatch().
  virtual Next Dispatch(HttpRequest& req, HttpResponse* res) = 0;
  // On a worker thread: may block.
  virtual void Work(HttpRequest& req, HttpResponse* res) = 0;
  // On the I/O thread, for a held request whose `hold_until` passed.
  virtual void HoldExpired(HttpRequest& req, HttpResponse* res) = 0;
  // On the I/O thread, before every answer to `req` leaves (errors the server makes itself
  // included).
  virtual void Decorate(const HttpRequest& req, HttpResponse* res) = 0;
  // On the I/O thread, once an answer to `req` has left entirely (not for one whose connection
  // failed first).
  virtual void Completed(const HttpRequest& req, const ExchangeStats& stats) {}
};

class HttpServer {
 public:
  // `handler` must outlive the server.
  HttpServer(HttpServerOptions options, RequestHandler* handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens on options.address:port (no SO_REUSEPORT: a second server on the address
  // fails). FAILED_PRECONDITION saying why when it cannot.
  absl::Status Bind();
  // Runs the I/O loop on the calling thread until Stop(). Returns at once if Stop() came first.
  void Serve();
  // Stops serving: the listener and every connection close; work already running finishes, but
  // its answer is not sent. From any thread.
  void Stop();

  // Held requests are dispatched again (the handler's state changed). From any thread.
  void Redispatch();
  // How many requests may be worked on at once: grows at once, shrinks as work finishes.
  void SetWorkers(int workers);
  int workers() const;
  HttpServerCounters counters() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shadowplane::instance

#endif  // SHADOWPLANE_INSTANCE_HTTP_SERVER_H_
