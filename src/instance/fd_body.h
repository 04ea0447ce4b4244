// A Boost.Beast message body sent from an open file descriptor, in 64 KiB parts read with
// pread() (Beast's file_body reads 4 KiB at a time, a system call and a socket write per 4 KiB).
// The body owns the descriptor and closes it. For serializing only (answers, forwarded writes).
#ifndef SHADOWPLANE_INSTANCE_FD_BODY_H_
#define SHADOWPLANE_INSTANCE_FD_BODY_H_

#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <utility>

namespace shadowplane::instance {

struct FdBody {
  class value_type {
   public:
    value_type() = default;
    value_type(value_type&& o) noexcept
        : fd_(std::exchange(o.fd_, -1)), size_(std::exchange(o.size_, 0)) {}
    value_type& operator=(value_type&& o) noexcept {
      if (this != &o) {
        Close();
        fd_ = std::exchange(o.fd_, -1);
        size_ = std::exchange(o.size_, 0);
      }
      return *this;
    }
    ~value_type() { Close(); }

    // Takes `fd`; `size` bytes from offset 0 are sent.
    void Reset(int fd, uint64_t size) {
      Close();
      fd_ = fd;
      size_ = size;
    }
    int fd() const { return fd_; }
    uint64_t size() const { return size_; }

   private:
    void Close() {
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
    }
    int fd_ = -1;
    uint64_t size_ = 0;
  };

  static uint64_t size(const value_type& body) { return body.size(); }

  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;
    static constexpr size_t kPart = 64 * 1024;

    template <bool isRequest, class Fields>
    writer(boost::beast::http::header<isRequest, Fields>&, const value_type& body) : body_(body) {}

    void init(boost::beast::error_code& ec) { ec = {}; }

    boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
      ec = {};
      const uint64_t left = body_.size() - offset_;
      if (left == 0) return boost::none;
      const size_t want = static_cast<size_t>(std::min<uint64_t>(left, kPart));
      // Not value-initialized: zeroing 64 KiB per answer cost more than sending a small file.
      if (!buffer_) buffer_.reset(new char[want]);
      ssize_t n;
      do {
        n = pread(body_.fd(), buffer_.get(), want, static_cast<off_t>(offset_));
      } while (n < 0 && errno == EINTR);
      if (n <= 0) {
        // Shorter than announced (truncated under us) or unreadable: the message cannot be
        // completed, and the connection must end.
        ec = n == 0 ? boost::beast::error_code(boost::asio::error::eof)
                    : boost::beast::error_code(errno, boost::system::system_category());
        return boost::none;
      }
      offset_ += static_cast<uint64_t>(n);
      return {{const_buffers_type(buffer_.get(), static_cast<size_t>(n)), offset_ < body_.size()}};
    }

   private:
    const value_type& body_;
    uint64_t offset_ = 0;
    std::unique_ptr<char[]> buffer_;
  };
};

}  // namespace shadowplane::instance

#endif  // SHADOWPLANE_INSTANCE_FD_BODY_H_
