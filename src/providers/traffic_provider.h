// Where a resource's clients are sent. A TrafficProvider points a service name (a DNS name, a
// load balancer's backend) at one instance endpoint and moves it to another: the `rfc2136`
// provider by dynamic DNS updates to an authoritative server, the `haproxy` provider by HAProxy's
// runtime API. Implementations are thread-safe.
//
// Every change is conditional on what the caller believes is there (no blind overwrite of a name
// someone else changed) and idempotent: a switch that already happened is done; one that
// half-happened is finished by running it again.
//
// Errors: INVALID_ARGUMENT naming the field (an endpoint that is not IP:port, a malformed service
// name, an unknown backend); FAILED_PRECONDITION when the server holds something other than what
// the caller expected (the message says what was found); UNAUTHENTICATED when the server refuses
// our credentials (a wrong TSIG key); UNAVAILABLE when the server cannot be reached (retriable:
// nothing changed, the old target keeps serving).
#ifndef SHADOWPLANE_PROVIDERS_TRAFFIC_PROVIDER_H_
#define SHADOWPLANE_PROVIDERS_TRAFFIC_PROVIDER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "providers/endpoint.h"

namespace shadowplane::providers {

class TrafficProvider {
 public:
  virtual ~TrafficProvider() = default;

  virtual std::string name() const = 0;

  // Points `service` at `target` for the first time (Reserve). OK when it already points there;
  // FAILED_PRECONDITION when it points somewhere else.
  virtual absl::Status Register(const std::string& service, const Endpoint& target) = 0;
  // What the server says `service` points at now (read back from the server itself; port 0 when
  // the server does not hold one, as DNS). NOT_FOUND when it points nowhere.
  virtual absl::StatusOr<Endpoint> Current(const std::string& service) = 0;
  // Readies `service` for a normal switch (DNS: lowers the TTL). Returns how long to wait before
  // switching so that every cache has seen the readied state (DNS: the TTL it replaced).
  virtual absl::StatusOr<absl::Duration> Prepare(const std::string& service) = 0;
  // Moves `service` from `from` to `to`. `urgent` (a spot interruption, a lost primary) does not
  // wait for anything. Already at `to`: OK. At neither: FAILED_PRECONDITION naming what it found.
  virtual absl::Status Switch(const std::string& service, const Endpoint& from, const Endpoint& to,
                              bool urgent) = 0;
  // After a switch has settled (DNS: the usual TTL back).
  virtual absl::Status Restore(const std::string& service) = 0;
  // How long clients may still reach the old target after a switch (DNS: the TTL in force; a
  // load balancer: connections already open). The old instance forwards writes for that long.
  virtual absl::StatusOr<absl::Duration> DrainPeriod(const std::string& service) = 0;
  // Points `service` nowhere (Release). OK when it already points nowhere; FAILED_PRECONDITION when
  // it points somewhere other than `target`.
  virtual absl::Status Unregister(const std::string& service, const Endpoint& target) = 0;
};

// OK when `service` points at `expected` now (read back); FAILED_PRECONDITION saying what it
// points at otherwise.
absl::Status VerifyTarget(TrafficProvider& provider, const std::string& service,
                          const Endpoint& expected);

}  // namespace shadowplane::providers

#endif  // SHADOWPLANE_PROVIDERS_TRAFFIC_PROVIDER_H_
