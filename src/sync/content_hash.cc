#include "sync/content_hash.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace shadowplane::sync {

struct ContentHasher::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

ContentHasher::ContentHasher() : ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr);
}

ContentHasher::~ContentHasher() = default;

void ContentHasher::Update(const void* data, size_t size) {
  if (size > 0) EVP_DigestUpdate(ctx_->md, data, size);
}

Digest ContentHasher::Finish() {
  Digest digest{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx_->md, digest.data(), &length);
  EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr);
  return digest;
}

std::string DigestToHex(const Digest& digest) {
  return absl::BytesToHexString(DigestBytes(digest));
}

std::string DigestBytes(const Digest& digest) {
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

absl::StatusOr<Digest> DigestFromBytes(const std::string& bytes) {
  Digest digest{};
  if (bytes.size() != digest.size()) {
    return absl::InvalidArgumentError(absl::StrCat("sha256 must be 32 bytes, got ", bytes.size()));
  }
  memcpy(digest.data(), bytes.data(), digest.size());
  return digest;
}

absl::StatusOr<Digest> HashFile(int fd, int64_t* bytes_read) {
  constexpr size_t kBuffer = 1 << 20;
  static thread_local std::vector<char> buffer(kBuffer);
  ContentHasher hasher;
  int64_t total = 0;
  for (;;) {
    ssize_t n = pread(fd, buffer.data(), buffer.size(), total);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("read failed: ", strerror(errno)));
    }
    if (n == 0) break;
    hasher.Update(buffer.data(), n);
    total += n;
  }
  if (bytes_read != nullptr) *bytes_read = total;
  return hasher.Finish();
}

}  // namespace shadowplane::sync
