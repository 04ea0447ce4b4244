// Owning handles for ldns objects, and a resolver that asks one server directly: what the rfc2136
// provider's updates and reads and the plain address lookup (dns_lookup.h) share.
#ifndef SHADOWPLANE_PROVIDERS_TRAFFIC_RFC2136_LDNS_HANDLES_H_
#define SHADOWPLANE_PROVIDERS_TRAFFIC_RFC2136_LDNS_HANDLES_H_

#include <ldns/ldns.h>

#include <memory>

#include "absl/time/time.h"
#include "providers/endpoint.h"

namespace shadowplane::providers::rfc2136 {

struct ResolverFree {
  void operator()(ldns_resolver* r) const { ldns_resolver_deep_free(r); }
};
struct PacketFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct ListFree {
  void operator()(ldns_rr_list* l) const { ldns_rr_list_deep_free(l); }
};
struct RdfFree {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
using Resolver = std::unique_ptr<ldns_resolver, ResolverFree>;
using Packet = std::unique_ptr<ldns_pkt, PacketFree>;
using List = std::unique_ptr<ldns_rr_list, ListFree>;
using Rdf = std::unique_ptr<ldns_rdf, RdfFree>;

// A resolver that asks `server` itself (no recursion, one try, `timeout` per query).
inline Resolver DirectResolver(const Endpoint& server, absl::Duration timeout) {
  Resolver r(ldns_resolver_new());
  Rdf address(ldns_rdf_new_frm_str(server.ipv6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A,
                                   server.address.c_str()));
  ldns_resolver_push_nameserver(r.get(), address.get());
  ldns_resolver_set_port(r.get(), static_cast<uint16_t>(server.port));
  ldns_resolver_set_recursive(r.get(), false);
  ldns_resolver_set_random(r.get(), false);
  ldns_resolver_set_retry(r.get(), 1);
  timeval tv;
  tv.tv_sec = absl::ToInt64Seconds(timeout);
  tv.tv_usec = absl::ToInt64Microseconds(timeout) % 1000000;
  ldns_resolver_set_timeout(r.get(), tv);
  return r;
}

}  // namespace shadowplane::providers::rfc2136

#endif  // SHADOWPLANE_PROVIDERS_TRAFFIC_RFC2136_LDNS_HANDLES_H_
