#include "instance/http_message.h"

#include <unistd.h>

#include "absl/strings/match.h"

namespace shadowplane::instance {

SpooledBody& SpooledBody::operator=(SpooledBody&& o) noexcept {
  if (this != &o) {
    Discard();
    path_ = std::move(o.path_);
    fd_ = std::exchange(o.fd_, -1);
    size_ = std::exchange(o.size_, 0);
    o.path_.clear();
  }
  return *this;
}

void SpooledBody::Release() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  path_.clear();
}

void SpooledBody::Discard() {
  if (fd_ >= 0) {
    ::close(fd_);
    unlink(path_.c_str());
  }
  fd_ = -1;
  path_.clear();
}

std::string HttpRequest::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

HttpResponse& HttpResponse::operator=(HttpResponse&& o) noexcept {
  if (this != &o) {
    if (file_fd >= 0) ::close(file_fd);
    status = o.status;
    headers = std::move(o.headers);
    content_type = std::move(o.content_type);
    body = std::move(o.body);
    file_fd = std::exchange(o.file_fd, -1);
    file_size = o.file_size;
    close = o.close;
  }
  return *this;
}

HttpResponse::~HttpResponse() {
  if (file_fd >= 0) ::close(file_fd);
}

}  // namespace shadowplane::instance
