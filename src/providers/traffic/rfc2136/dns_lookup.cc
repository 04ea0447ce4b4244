#include "providers/traffic/rfc2136/dns_lookup.h"

#include <cstdlib>
#include <optional>

#include "absl/strings/str_cat.h"
#include "providers/traffic/rfc2136/ldns_handles.h"

namespace shadowplane::providers::rfc2136 {

absl::StatusOr<DnsRecord> LookupAddress(const Endpoint& server, const std::string& name,
                                        absl::Duration timeout) {
  Rdf owner(ldns_dname_new_frm_str(name.c_str()));
  if (owner == nullptr)
    return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" is not a DNS name"));
  const std::string at = absl::StrCat(server.address, ":", server.port);
  Resolver resolver = DirectResolver(server, timeout);
  int found = 0;
  std::optional<DnsRecord> record;
  for (ldns_rr_type type : {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA}) {
    ldns_pkt* raw = nullptr;
    const ldns_status s =
        ldns_resolver_query_status(&raw, resolver.get(), owner.get(), type, LDNS_RR_CLASS_IN, 0);
    Packet answer(raw);
    if (s != LDNS_STATUS_OK || answer == nullptr) {
      return absl::UnavailableError(absl::StrCat("DNS server ", at, " did not answer for ", name,
                                                 ": ", ldns_get_errorstr_by_id(s)));
    }
    const ldns_pkt_rcode rcode = ldns_pkt_get_rcode(answer.get());
    if (rcode == LDNS_RCODE_NXDOMAIN) break;
    if (rcode != LDNS_RCODE_NOERROR) {
      return absl::FailedPreconditionError(absl::StrCat("DNS server ", at, " answered rcode ",
                                                        rcode, " for ", name,
                                                        " (is it authoritative for the name?)"));
    }
    List rrs(ldns_pkt_rr_list_by_type(answer.get(), type, LDNS_SECTION_ANSWER));
    if (rrs == nullptr) continue;
    found += static_cast<int>(ldns_rr_list_rr_count(rrs.get()));
    if (record.has_value() || ldns_rr_list_rr_count(rrs.get()) == 0) continue;
    const ldns_rr* rr = ldns_rr_list_rr(rrs.get(), 0);
    char* text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
    absl::StatusOr<Endpoint> target = ParseAddress(text == nullptr ? "" : text, 0, name);
    free(text);
    if (!target.ok()) return target.status();
    record = DnsRecord{*target, absl::Seconds(ldns_rr_ttl(rr))};
  }
  if (!record.has_value()) {
    return absl::NotFoundError(absl::StrCat(name, " has no A or AAAA record on ", at));
  }
  if (found > 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        name, " holds ", found, " address records; shadowplane manages names with exactly one"));
  }
  return *record;
}

}  // namespace shadowplane::providers::rfc2136
