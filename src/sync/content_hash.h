// SHA-256 of file contents, streamed: the strong hash that proves a rebuilt file equals its
// source and from which tree hashes are made. SHA-256 rather than librsync's BLAKE2 because
// OpenSSL's uses the CPU's SHA extensions (about 2 GB/s here), so hashing is never what limits
// a sync. Not thread-safe; one per stream.
#ifndef SHADOWPLANE_SYNC_CONTENT_HASH_H_
#define SHADOWPLANE_SYNC_CONTENT_HASH_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace shadowplane::sync {

using Digest = std::array<uint8_t, 32>;

std::string DigestToHex(const Digest& digest);
// The 32 raw bytes as a string (the wire form) and back; nullopt-like failure is INVALID_ARGUMENT.
std::string DigestBytes(const Digest& digest);
absl::StatusOr<Digest> DigestFromBytes(const std::string& bytes);

class ContentHasher {
 public:
  ContentHasher();
  ~ContentHasher();
  ContentHasher(const ContentHasher&) = delete;
  ContentHasher& operator=(const ContentHasher&) = delete;

  void Update(const void* data, size_t size);
  // The digest of everything updated so far; the hasher starts over afterwards.
  Digest Finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// Hashes the open file `fd` from offset 0 to its end with large reads. Returns the digest and
// stores the number of bytes read in `*bytes_read`.
absl::StatusOr<Digest> HashFile(int fd, int64_t* bytes_read);

}  // namespace shadowplane::sync

#endif  // SHADOWPLANE_SYNC_CONTENT_HASH_H_
