// The address record a name holds on one DNS server, asked directly (never a cache): the rfc2136
// provider's reads, and clients that resolve a service name as a cached DNS answer would
// (shadowctl loadgen --dns_server).
#ifndef SHADOWPLANE_PROVIDERS_TRAFFIC_RFC2136_DNS_LOOKUP_H_
#define SHADOWPLANE_PROVIDERS_TRAFFIC_RFC2136_DNS_LOOKUP_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "providers/endpoint.h"

namespace shadowplane::providers::rfc2136 {

// A name's address record as the server holds it.
struct DnsRecord {
  Endpoint target;  // port 0
  absl::Duration ttl;
};

// The A (else AAAA) record of `name` (absolute, with its final dot) on `server`. UNAVAILABLE when
// the server does not answer within `timeout`; NOT_FOUND when the name has no address record;
// FAILED_PRECONDITION for an error answer (the server is not authoritative, say) or a name with
// more than one address record (shadowplane's names hold exactly one).
absl::StatusOr<DnsRecord> LookupAddress(const Endpoint& server, const std::string& name,
                                        absl::Duration timeout);

}  // namespace shadowplane::providers::rfc2136

#endif  // SHADOWPLANE_PROVIDERS_TRAFFIC_RFC2136_DNS_LOOKUP_H_
