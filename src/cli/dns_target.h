// A service name resolved the way a client with a DNS cache resolves it: asked of one DNS server
// (the traffic layer's authoritative server), the answer kept for its TTL, then asked again; so a
// load generated through DNS follows a switch of the name as real clients would, a TTL late.
// Only loopback is allowed: the server's address and every answer. Thread-safe.
#ifndef SHADOWPLANE_CLI_DNS_TARGET_H_
#define SHADOWPLANE_CLI_DNS_TARGET_H_

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "providers/endpoint.h"

namespace shadowplane::cli {

class DnsTarget {
 public:
  // INVALID_ARGUMENT for a server that is not IP:port on loopback, or a name that is empty or not
  // a DNS name.
  static absl::StatusOr<std::unique_ptr<DnsTarget>> Create(const std::string& server,
                                                           const std::string& name,
                                                           absl::Duration timeout);

  // The address the name holds (from the cache while its TTL lasts); FAILED_PRECONDITION when
  // the answer is off IPv4 loopback, else the lookup's error (providers/traffic/rfc2136/
  // dns_lookup.h). Failed lookups are not cached: the next call asks again.
  absl::StatusOr<std::string> Resolve();

  int64_t lookups() const;
  // Every address the name was seen to hold.
  std::set<std::string> addresses() const;

 private:
  DnsTarget(providers::Endpoint server, std::string name, absl::Duration timeout)
      : server_(std::move(server)), name_(std::move(name)), timeout_(timeout) {}

  const providers::Endpoint server_;
  const std::string name_;  // absolute
  const absl::Duration timeout_;
  mutable absl::Mutex mu_;
  std::string cached_ ABSL_GUARDED_BY(mu_);
  absl::Time expires_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t lookups_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<std::string> seen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shadowplane::cli

#endif  // SHADOWPLANE_CLI_DNS_TARGET_H_
