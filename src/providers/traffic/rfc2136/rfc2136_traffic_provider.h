// The `rfc2136` traffic provider: a resource's service name is a DNS name in a zone served by an
// authoritative server that takes dynamic updates (RFC 2136) signed with TSIG (RFC 8945,
// hmac-sha256): Knot DNS, BIND, PowerDNS. The name holds one A (or AAAA) record: the primary's
// address. Clients connect to the name on the service's port (the instance endpoints' port).
//
// Every update carries a prerequisite that the record is still what we last saw (RFC 2136 2.4.2,
// "RRset exists, value dependent"; for Register, "RRset does not exist"), so a name someone else
// changed is never overwritten blindly: the server answers NXRRSET and the switch fails with what
// the name holds now.
//
// TTLs: managed names keep `ttl` (30 s); Prepare lowers it to `prepare_ttl` (5 s) and returns
// the old TTL, the time every resolver's cache needs to see the short one, before a normal switch;
// an urgent switch does not wait; Restore raises it again once the move has settled. The drain
// period after a switch is the TTL in force plus `drain_margin`. Reads (Current) query the
// authoritative server itself, never a cache.
#ifndef SHADOWPLANE_PROVIDERS_TRAFFIC_RFC2136_RFC2136_TRAFFIC_PROVIDER_H_
#define SHADOWPLANE_PROVIDERS_TRAFFIC_RFC2136_RFC2136_TRAFFIC_PROVIDER_H_

#include <memory>
#include <optional>
#include <string>

#include "providers/traffic/rfc2136/dns_lookup.h"
#include "providers/traffic_provider.h"
#include "providers/traffic_provider_registry.h"

namespace shadowplane::providers::rfc2136 {

struct Rfc2136Options {
  std::string server;  // the authoritative server, IP:port
  std::string zone;    // e.g. "svc.example."
  std::string tsig_key_name;
  std::string tsig_secret;  // base64, as keymgr / tsig-keygen print it
  absl::Duration ttl = absl::Seconds(30);
  absl::Duration prepare_ttl = absl::Seconds(5);
  absl::Duration drain_margin = absl::Seconds(10);
  absl::Duration timeout = absl::Seconds(2);
};

class Rfc2136TrafficProvider final : public TrafficProvider {
 public:
  // INVALID_ARGUMENT naming the option when the options cannot work.
  static absl::StatusOr<std::unique_ptr<Rfc2136TrafficProvider>> Create(Rfc2136Options options);

  std::string name() const override { return "rfc2136"; }
  absl::Status Register(const std::string& service, const Endpoint& target) override;
  absl::StatusOr<Endpoint> Current(const std::string& service) override;
  absl::StatusOr<absl::Duration> Prepare(const std::string& service) override;
  absl::Status Switch(const std::string& service, const Endpoint& from, const Endpoint& to,
                      bool urgent) override;
  absl::Status Restore(const std::string& service) override;
  absl::StatusOr<absl::Duration> DrainPeriod(const std::string& service) override;
  absl::Status Unregister(const std::string& service, const Endpoint& target) override;

  // The record `service` holds (its TTL included); NOT_FOUND when none.
  absl::StatusOr<DnsRecord> Lookup(const std::string& service);

 private:
  explicit Rfc2136TrafficProvider(Rfc2136Options options, Endpoint server)
      : options_(std::move(options)), server_(std::move(server)) {}

  // INVALID_ARGUMENT unless `service` is a name inside the zone; the absolute name.
  absl::StatusOr<std::string> NameInZone(const std::string& service) const;
  // Replaces `name`'s record: `expected` (absent: none may exist) by `target` with `ttl`
  // (absent target: removes it).
  absl::Status Replace(const std::string& name, const std::optional<Endpoint>& expected,
                       const std::optional<Endpoint>& target, absl::Duration ttl);

  const Rfc2136Options options_;
  const Endpoint server_;
};

// Registers "rfc2136": settings dns_server, dns_zone, dns_tsig_key_name, dns_tsig_secret, dns_ttl,
// dns_prepare_ttl, dns_drain_margin, dns_timeout.
absl::Status RegisterRfc2136TrafficProvider(TrafficProviderRegistry& registry);

}  // namespace shadowplane::providers::rfc2136

#endif  // SHADOWPLANE_PROVIDERS_TRAFFIC_RFC2136_RFC2136_TRAFFIC_PROVIDER_H_
