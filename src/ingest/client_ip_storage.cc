#include "ingest/client_ip_storage.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

namespace shadowplane::ingest {

const char* ClientIpStorageName(ClientIpStorage storage) {
  switch (storage) {
    case ClientIpStorage::kFull:
      return "full";
    case ClientIpStorage::kTruncated:
      return "truncated";
    case ClientIpStorage::kHashed:
      return "hashed";
  }
  return "full";
}

bool ParseClientIpStorage(absl::string_view text, ClientIpStorage* out) {
  for (ClientIpStorage s :
       {ClientIpStorage::kFull, ClientIpStorage::kTruncated, ClientIpStorage::kHashed}) {
    if (text == ClientIpStorageName(s)) {
      *out = s;
      return true;
    }
  }
  return false;
}

geo::IpAddress StoredClientAddress(const geo::IpAddress& ip, ClientIpStorage storage,
                                   absl::string_view key) {
  geo::IpAddress out = ip;
  switch (storage) {
    case ClientIpStorage::kFull:
      break;
    case ClientIpStorage::kTruncated:
      // IPv4 sits in the last four bytes (::ffff:a.b.c.d): its /24 zeroes the last one; an IPv6
      // /48 keeps the first six bytes.
      std::fill(out.bytes.begin() + (ip.v4 ? 15 : 6), out.bytes.end(), 0);
      break;
    case ClientIpStorage::kHashed: {
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int length = 0;
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), ip.bytes.data(), ip.bytes.size(),
           digest, &length);
      out.v4 = false;
      out.bytes[0] = 0xfd;
      std::copy(digest, digest + 15, out.bytes.begin() + 1);
      break;
    }
  }
  return out;
}

}  // namespace shadowplane::ingest
