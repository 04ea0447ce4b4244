#include "providers/traffic/rfc2136/rfc2136_traffic_provider.h"

#include <ldns/ldns.h>

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "providers/traffic/rfc2136/ldns_handles.h"

namespace shadowplane::providers::rfc2136 {

namespace {

// Names compare without case and with their final dot.
std::string Absolute(std::string name) {
  name = absl::AsciiStrToLower(name);
  if (name.empty() || name.back() != '.') name.push_back('.');
  return name;
}

uint32_t Seconds(absl::Duration d) {
  return static_cast<uint32_t>(std::max<int64_t>(0, absl::ToInt64Seconds(d)));
}

ldns_rr_type TypeOf(const Endpoint& e) { return e.ipv6 ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A; }

// An RR of `name` and `type` with class `klass`, `ttl` and, when given, `address` as its data.
ldns_rr* Record(const std::string& name, ldns_rr_type type, ldns_rr_class klass, uint32_t ttl,
                const Endpoint* address) {
  ldns_rr* rr = ldns_rr_new();
  ldns_rr_set_owner(rr, ldns_dname_new_frm_str(name.c_str()));
  ldns_rr_set_type(rr, type);
  ldns_rr_set_class(rr, klass);
  ldns_rr_set_ttl(rr, ttl);
  if (address != nullptr) {
    ldns_rr_push_rdf(rr, ldns_rdf_new_frm_str(address->ipv6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A,
                                              address->address.c_str()));
  }
  return rr;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Rfc2136TrafficProvider>> Rfc2136TrafficProvider::Create(
    Rfc2136Options options) {
  ASSIGN_OR_RETURN(Endpoint server, ParseEndpoint(options.server, "dns_server"));
  if (options.zone.empty()) return absl::InvalidArgumentError("dns_zone is required");
  options.zone = Absolute(options.zone);
  if (options.tsig_key_name.empty() || options.tsig_secret.empty()) {
    return absl::InvalidArgumentError(
        "dns_tsig_key_name and dns_tsig_secret are required: updates are signed (hmac-sha256)");
  }
  if (options.ttl < absl::Seconds(1) || options.prepare_ttl < absl::Seconds(1) ||
      options.prepare_ttl > options.ttl) {
    return absl::InvalidArgumentError(
        "dns_ttl and dns_prepare_ttl must be at least 1s, dns_prepare_ttl at most dns_ttl");
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("dns_timeout must be positive");
  }
  return std::unique_ptr<Rfc2136TrafficProvider>(
      new Rfc2136TrafficProvider(std::move(options), std::move(server)));
}

namespace {

// Dot-separated labels of [a-z0-9-], 1 to 63 bytes, neither starting nor ending with '-'.
bool IsHostName(absl::string_view name) {
  for (absl::string_view label : absl::StrSplit(name, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> Rfc2136TrafficProvider::NameInZone(const std::string& service) const {
  if (service.empty()) return absl::InvalidArgumentError("service_name is required");
  std::string name = absl::AsciiStrToLower(service);
  if (name.back() != '.') {
    // Relative to the zone unless it already ends with it ("shop" is "shop.<zone>").
    const std::string zone(absl::StripSuffix(options_.zone, "."));
    if (!absl::EndsWith(name, "." + zone)) absl::StrAppend(&name, ".", zone);
    name.push_back('.');
  }
  if (name.size() <= options_.zone.size() || !absl::EndsWith(name, "." + options_.zone)) {
    return absl::InvalidArgumentError(
        absl::StrCat("service_name \"", service, "\" is not a name inside zone ", options_.zone));
  }
  // Host names only: ldns takes "*" (a wildcard record answering for every name below), escapes
  // ("\\046") and spaces as parts of a name, none of which a service may claim.
  const absl::string_view own(name.data(), name.size() - options_.zone.size() - 1);
  if (name.size() > 254 || !IsHostName(own)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "service_name \"", service,
        "\" is not a host name: labels of letters, digits and '-', 1 to 63 each, 253 in all"));
  }
  Rdf parsed(ldns_dname_new_frm_str(name.c_str()));
  if (parsed == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("service_name \"", service, "\" is not a DNS name"));
  }
  return name;
}

namespace {

// A resolver for the authoritative server; with the TSIG key when `sign` (ldns verifies signed
// replies with the resolver's key and crashes on a signed exchange without one).
Resolver NewResolver(const Endpoint& server, const Rfc2136Options& options, bool sign) {
  Resolver r = DirectResolver(server, options.timeout);
  if (sign) {
    ldns_resolver_set_tsig_keyname(r.get(), options.tsig_key_name.c_str());
    ldns_resolver_set_tsig_keydata(r.get(), options.tsig_secret.c_str());
    ldns_resolver_set_tsig_algorithm(r.get(), "hmac-sha256.");
  }
  return r;
}

}  // namespace

absl::StatusOr<DnsRecord> Rfc2136TrafficProvider::Lookup(const std::string& service) {
  ASSIGN_OR_RETURN(const std::string name, NameInZone(service));
  return LookupAddress(server_, name, options_.timeout);
}

absl::Status Rfc2136TrafficProvider::Replace(const std::string& name,
                                             const std::optional<Endpoint>& expected,
                                             const std::optional<Endpoint>& target,
                                             absl::Duration ttl) {
  List prerequisites(ldns_rr_list_new());
  List updates(ldns_rr_list_new());
  if (expected.has_value()) {
    // RRset exists, value dependent: exactly this record.
    ldns_rr_list_push_rr(prerequisites.get(),
                         Record(name, TypeOf(*expected), LDNS_RR_CLASS_IN, 0, &*expected));
  } else {
    // RRset does not exist, for both address types.
    for (ldns_rr_type type : {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA}) {
      ldns_rr_list_push_rr(prerequisites.get(), Record(name, type, LDNS_RR_CLASS_NONE, 0, nullptr));
    }
  }
  // Delete both address RRsets, then add the new record.
  for (ldns_rr_type type : {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA}) {
    ldns_rr_list_push_rr(updates.get(), Record(name, type, LDNS_RR_CLASS_ANY, 0, nullptr));
  }
  if (target.has_value()) {
    ldns_rr_list_push_rr(updates.get(),
                         Record(name, TypeOf(*target), LDNS_RR_CLASS_IN, Seconds(ttl), &*target));
  }
  Packet update(ldns_update_pkt_new(ldns_dname_new_frm_str(options_.zone.c_str()), LDNS_RR_CLASS_IN,
                                    prerequisites.get(), updates.get(), nullptr));
  if (update == nullptr) return absl::InternalError("could not build the DNS UPDATE");
  Resolver resolver = NewResolver(server_, options_, true);
  ldns_status s = ldns_update_pkt_tsig_add(update.get(), resolver.get());
  if (s != LDNS_STATUS_OK) {
    return absl::InvalidArgumentError(absl::StrCat("signing the DNS UPDATE with TSIG key ",
                                                   options_.tsig_key_name,
                                                   " failed: ", ldns_get_errorstr_by_id(s)));
  }
  ldns_pkt* raw = nullptr;
  s = ldns_resolver_send_pkt(&raw, resolver.get(), update.get());
  Packet answer(raw);
  if (s == LDNS_STATUS_CRYPTO_TSIG_BOGUS || s == LDNS_STATUS_CRYPTO_TSIG_ERR ||
      (answer != nullptr && ldns_pkt_get_rcode(answer.get()) == LDNS_RCODE_NOTAUTH)) {
    return absl::UnauthenticatedError(absl::StrCat(
        "DNS server ", options_.server, " refused the update of ", name, " signed with TSIG key ",
        options_.tsig_key_name, " (NOTAUTH: wrong key name or secret, or not authoritative for ",
        options_.zone, "); nothing was changed"));
  }
  if (s != LDNS_STATUS_OK || answer == nullptr) {
    return absl::UnavailableError(absl::StrCat("DNS server ", options_.server,
                                               " did not answer the update of ", name, ": ",
                                               ldns_get_errorstr_by_id(s)));
  }
  switch (ldns_pkt_get_rcode(answer.get())) {
    case LDNS_RCODE_NOERROR:
      return absl::OkStatus();
    case LDNS_RCODE_NXRRSET:
    case LDNS_RCODE_YXRRSET:
    case LDNS_RCODE_NXDOMAIN:
    case LDNS_RCODE_YXDOMAIN: {
      absl::StatusOr<DnsRecord> now = Lookup(name);
      return absl::FailedPreconditionError(absl::StrCat(
          name, " changed under us: expected ",
          expected.has_value() ? expected->address : std::string("no record"), ", found ",
          now.ok() ? now->target.address : std::string(now.status().message())));
    }
    case LDNS_RCODE_REFUSED:
      return absl::PermissionDeniedError(
          absl::StrCat("DNS server ", options_.server, " refused the update of ", name,
                       " (REFUSED: the key may not update this zone)"));
    case LDNS_RCODE_NOTZONE:
      return absl::InvalidArgumentError(
          absl::StrCat("service_name ", name, " is not in zone ", options_.zone, " (NOTZONE)"));
    case LDNS_RCODE_SERVFAIL:
      return absl::UnavailableError(
          absl::StrCat("DNS server ", options_.server, " failed the update of ", name));
    default:
      return absl::InternalError(absl::StrCat("DNS server ", options_.server,
                                              " answered the update of ", name, " with rcode ",
                                              ldns_pkt_get_rcode(answer.get())));
  }
}

absl::Status Rfc2136TrafficProvider::Register(const std::string& service, const Endpoint& target) {
  ASSIGN_OR_RETURN(const std::string name, NameInZone(service));
  absl::StatusOr<DnsRecord> current = Lookup(name);
  if (current.ok()) {
    if (current->target.Matches(target)) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        name, " already points at ", current->target.address, ", not ", target.address));
  }
  if (!absl::IsNotFound(current.status())) return current.status();
  return Replace(name, std::nullopt, target, options_.ttl);
}

absl::StatusOr<Endpoint> Rfc2136TrafficProvider::Current(const std::string& service) {
  ASSIGN_OR_RETURN(const DnsRecord record, Lookup(service));
  return record.target;
}

absl::StatusOr<absl::Duration> Rfc2136TrafficProvider::Prepare(const std::string& service) {
  ASSIGN_OR_RETURN(const std::string name, NameInZone(service));
  ASSIGN_OR_RETURN(const DnsRecord record, Lookup(name));
  if (record.ttl > options_.prepare_ttl) {
    RETURN_IF_ERROR(Replace(name, record.target, record.target, options_.prepare_ttl));
  }
  // Caches may hold the record for as long as the TTL they were given.
  return record.ttl;
}

absl::Status Rfc2136TrafficProvider::Switch(const std::string& service, const Endpoint& from,
                                            const Endpoint& to, bool urgent) {
  ASSIGN_OR_RETURN(const std::string name, NameInZone(service));
  absl::StatusOr<DnsRecord> record = Lookup(name);
  if (absl::IsNotFound(record.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " has no address record; expected ", from.address));
  }
  if (!record.ok()) return record.status();
  if (record->target.Matches(to)) return absl::OkStatus();  // done before: idempotent
  if (!record->target.Matches(from)) {
    return absl::FailedPreconditionError(absl::StrCat(name, " points at ", record->target.address,
                                                      ", not ", from.address,
                                                      ": someone else moved it"));
  }
  // The TTL in force stays (short after Prepare); an urgent move also shortens it at once.
  const absl::Duration ttl = urgent ? std::min(record->ttl, options_.prepare_ttl) : record->ttl;
  RETURN_IF_ERROR(Replace(name, record->target, to, ttl));
  return VerifyTarget(*this, name, to);
}

absl::Status Rfc2136TrafficProvider::Restore(const std::string& service) {
  ASSIGN_OR_RETURN(const std::string name, NameInZone(service));
  ASSIGN_OR_RETURN(const DnsRecord record, Lookup(name));
  if (record.ttl == options_.ttl) return absl::OkStatus();
  return Replace(name, record.target, record.target, options_.ttl);
}

absl::StatusOr<absl::Duration> Rfc2136TrafficProvider::DrainPeriod(const std::string& service) {
  absl::StatusOr<DnsRecord> record = Lookup(service);
  if (absl::IsNotFound(record.status())) return options_.drain_margin;
  if (!record.ok()) return record.status();
  return record->ttl + options_.drain_margin;
}

absl::Status Rfc2136TrafficProvider::Unregister(const std::string& service,
                                                const Endpoint& target) {
  ASSIGN_OR_RETURN(const std::string name, NameInZone(service));
  absl::StatusOr<DnsRecord> record = Lookup(name);
  if (absl::IsNotFound(record.status())) return absl::OkStatus();
  if (!record.ok()) return record.status();
  if (!record->target.Matches(target)) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " points at ", record->target.address, ", not ", target.address));
  }
  return Replace(name, record->target, std::nullopt, absl::ZeroDuration());
}

absl::Status RegisterRfc2136TrafficProvider(TrafficProviderRegistry& registry) {
  return registry.Register(
      "rfc2136",
      [](const TrafficProviderContext& context)
          -> absl::StatusOr<std::unique_ptr<TrafficProvider>> {
        Rfc2136Options o;
        o.server = Setting(context, "dns_server");
        o.zone = Setting(context, "dns_zone");
        o.tsig_key_name = Setting(context, "dns_tsig_key_name");
        o.tsig_secret = Setting(context, "dns_tsig_secret");
        ASSIGN_OR_RETURN(o.ttl, DurationSetting(context, "dns_ttl", o.ttl));
        ASSIGN_OR_RETURN(o.prepare_ttl, DurationSetting(context, "dns_prepare_ttl", o.prepare_ttl));
        ASSIGN_OR_RETURN(o.drain_margin,
                         DurationSetting(context, "dns_drain_margin", o.drain_margin));
        ASSIGN_OR_RETURN(o.timeout, DurationSetting(context, "dns_timeout", o.timeout));
        ASSIGN_OR_RETURN(auto provider, Rfc2136TrafficProvider::Create(std::move(o)));
        return std::unique_ptr<TrafficProvider>(std::move(provider));
      });
}

}  // namespace shadowplane::providers::rfc2136
