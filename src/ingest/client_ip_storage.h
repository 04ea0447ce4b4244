// What is kept of a client's address (`--client_ip_storage`), applied after the origin lookup and
// before anything is stored: the access log, client affinity and the distinct-client sketches
// all see the stored form.
//
//   full       the address as it came.
//   truncated  its network: IPv4 /24, IPv6 /48 (the rest zeroed). Distinct clients within one
//              network count as one, and affinity follows the network.
//   hashed     a keyed hash (HMAC-SHA-256 with the server's secret key) as an IPv6 address in
//              fd00::/8 (unique local, so it cannot be mistaken for a real client): stable per
//              client and key, so affinity and distinct counts hold, but the address cannot be
//              recovered without the key.
#ifndef SHADOWPLANE_INGEST_CLIENT_IP_STORAGE_H_
#define SHADOWPLANE_INGEST_CLIENT_IP_STORAGE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "geo/ip_address.h"

namespace shadowplane::ingest {

enum class ClientIpStorage { kFull, kTruncated, kHashed };

// "full", "truncated", "hashed".
const char* ClientIpStorageName(ClientIpStorage storage);
bool ParseClientIpStorage(absl::string_view text, ClientIpStorage* out);

// The smallest hash key accepted, in bytes.
inline constexpr size_t kMinClientIpKeyBytes = 16;

// `key` is used by kHashed only.
geo::IpAddress StoredClientAddress(const geo::IpAddress& ip, ClientIpStorage storage,
                                   absl::string_view key);

}  // namespace shadowplane::ingest

#endif  // SHADOWPLANE_INGEST_CLIENT_IP_STORAGE_H_
