// Switches a resource's client traffic through a TrafficProvider, with an audit row in
// `traffic_switches` written before the switch starts (a switch cut short by a crash shows as
// running) and completed when it ends, and metrics. The switch is the provider's: conditional on
// the old target, idempotent, verified by reading the server back. What the caller does around
// it (freezing writes, forwarding from the old instance for the drain period) is the migration's.
//
// Metrics: shadowplane_traffic_switches_total{provider, urgent, result},
// shadowplane_traffic_switch_seconds{provider}. Thread-safe.
#ifndef SHADOWPLANE_TRAFFIC_TRAFFIC_SWITCHER_H_
#define SHADOWPLANE_TRAFFIC_TRAFFIC_SWITCHER_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "providers/traffic_provider.h"
#include "store/traffic_switch_repository.h"

namespace prometheus {
class Registry;
class Counter;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane::traffic {

struct SwitchRequest {
  std::string resource_id;
  std::string service;
  providers::Endpoint from;
  providers::Endpoint to;
  bool urgent = false;
  std::string reason;  // e.g. "migration 42"
};

struct SwitchOutcome {
  int64_t audit_id = 0;
  absl::Duration duration;  // from the request to the server's verified answer
  // How long the old instance should forward writes: clients may reach it that long.
  absl::Duration drain;
};

class TrafficSwitcher {
 public:
  TrafficSwitcher(providers::TrafficProvider* provider, store::TrafficSwitchRepository* audit,
                  const Clock* clock, prometheus::Registry* registry);

  // The provider's errors (see providers/traffic_provider.h); UNAVAILABLE when the audit row
  // cannot be written (nothing is switched then).
  absl::StatusOr<SwitchOutcome> Switch(const SwitchRequest& request);

 private:
  providers::TrafficProvider* const provider_;
  store::TrafficSwitchRepository* const audit_;
  const Clock* const clock_;
  prometheus::Family<prometheus::Counter>* switches_ = nullptr;
  prometheus::Histogram* seconds_ = nullptr;
};

}  // namespace shadowplane::traffic

#endif  // SHADOWPLANE_TRAFFIC_TRAFFIC_SWITCHER_H_
