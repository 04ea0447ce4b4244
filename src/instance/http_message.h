// The request and response an instance's HTTP server hands to its handler, free of the HTTP
// library's types, so that the handler (file_server.h) is plain code over plain structs.
#ifndef SHADOWPLANE_INSTANCE_HTTP_MESSAGE_H_
#define SHADOWPLANE_INSTANCE_HTTP_MESSAGE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace shadowplane::instance {

// A request body received into a temporary file (never into memory, whatever its size). The file
// is removed when this is destroyed unless Release() took it (a commit renamed it into place).
// Move-only. Not thread-safe: one owner at a time.
class SpooledBody {
 public:
  SpooledBody() = default;
  SpooledBody(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  SpooledBody(SpooledBody&& o) noexcept { *this = std::move(o); }
  SpooledBody& operator=(SpooledBody&& o) noexcept;
  SpooledBody(const SpooledBody&) = delete;
  SpooledBody& operator=(const SpooledBody&) = delete;
  ~SpooledBody() { Discard(); }

  bool empty() const { return fd_ < 0; }
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }
  int64_t size() const { return size_; }
  void add_size(int64_t n) { size_ += n; }
  // Closes the file and forgets it without removing it: it has been renamed into place.
  void Release();
  // Closes and removes the file.
  void Discard();

 private:
  std::string path_;
  int fd_ = -1;
  int64_t size_ = 0;
};

struct HttpRequest {
  std::string method;  // as sent: GET, HEAD, PUT, DELETE, ...
  std::string target;  // the request target, still percent-encoded
  std::vector<std::pair<std::string, std::string>> headers;
  SpooledBody body;        // a PUT's body once read; empty otherwise
  std::string peer;        // the connection's remote address (no port)
  bool keep_alive = true;  // the client asked to keep the connection open after the answer

  // Filled by the handler when it dispatches the request (see RequestHandler::Dispatch).
  std::string forward_to;  // a write to pass on to this host:port
  absl::Time hold_until;   // when a held write gives up
  bool held = false;       // it has waited for a freeze
  absl::Time held_since;   // when it started waiting
  // Passed on by an old primary of the resource, its signature checked (instance/forward_auth.h).
  bool forwarded = false;

  // The first value of header `name` (case-insensitive), or "".
  std::string header(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type = "text/plain";
  std::string body;
  // A file to send as the body instead of `body` (GET of a file): the server sends `file_size`
  // bytes from it and closes it.
  int file_fd = -1;
  int64_t file_size = 0;
  // Close the connection after this answer.
  bool close = false;

  HttpResponse() = default;
  HttpResponse(HttpResponse&& o) noexcept { *this = std::move(o); }
  HttpResponse& operator=(HttpResponse&& o) noexcept;
  HttpResponse(const HttpResponse&) = delete;
  HttpResponse& operator=(const HttpResponse&) = delete;
  ~HttpResponse();

  void set_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
  // A short text answer.
  void Reply(int code, const std::string& message) {
    status = code;
    content_type = "text/plain";
    body = message + "\n";
  }
};

}  // namespace shadowplane::instance

#endif  // SHADOWPLANE_INSTANCE_HTTP_MESSAGE_H_
