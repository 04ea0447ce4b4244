// The `haproxy` traffic provider: a resource's service name is an HAProxy backend, and the backend
// keeps one stable server slot (`slot`, default "live") that always names the resource's primary.
// A switch repoints the slot (`set server BACKEND/SLOT addr IP port P`) instead of draining one
// server into another: HAProxy 2.6 keeps admitting clients whose stick-table entry names a
// draining server, and stick entries cannot be moved, so sticky clients would stay on the old,
// read-only instance. Entries name the slot, so they follow the move; connections already open to
// the old address finish there (the old instance forwards their writes, see instance/).
//
// The slot is in maintenance while the service points nowhere (before Register, after
// Unregister). The backend and its slot come from HAProxy's configuration (backends cannot be
// created at run time); an unknown backend or slot is INVALID_ARGUMENT. Runtime changes are lost
// on an HAProxy reload unless HAProxy loads a server-state file: with `state_file` set, the
// provider rewrites it (atomically) after every change, for `load-server-state-from-file`.
//
// Changes are check-then-set (the runtime API has no conditional set): one controller drives a
// resource's traffic at a time (the migration's lease).
#ifndef SHADOWPLANE_PROVIDERS_TRAFFIC_HAPROXY_HAPROXY_TRAFFIC_PROVIDER_H_
#define SHADOWPLANE_PROVIDERS_TRAFFIC_HAPROXY_HAPROXY_TRAFFIC_PROVIDER_H_

#include <string>

#include "providers/traffic/haproxy/runtime_api.h"
#include "providers/traffic_provider.h"
#include "providers/traffic_provider_registry.h"

namespace shadowplane::providers::haproxy {

struct HaproxyOptions {
  std::string socket;  // the stats socket, level admin
  std::string slot = "live";
  std::string state_file;  // empty: none
  absl::Duration timeout = absl::Seconds(5);
  // How long connections opened to the old address may last after a switch.
  absl::Duration drain = absl::Seconds(30);
};

class HaproxyTrafficProvider final : public TrafficProvider {
 public:
  // INVALID_ARGUMENT naming the option when the options cannot work.
  static absl::StatusOr<std::unique_ptr<HaproxyTrafficProvider>> Create(HaproxyOptions options);

  std::string name() const override { return "haproxy"; }
  absl::Status Register(const std::string& service, const Endpoint& target) override;
  absl::StatusOr<Endpoint> Current(const std::string& service) override;
  absl::StatusOr<absl::Duration> Prepare(const std::string& service) override;
  absl::Status Switch(const std::string& service, const Endpoint& from, const Endpoint& to,
                      bool urgent) override;
  absl::Status Restore(const std::string& service) override;
  absl::StatusOr<absl::Duration> DrainPeriod(const std::string& service) override;
  absl::Status Unregister(const std::string& service, const Endpoint& target) override;

 private:
  explicit HaproxyTrafficProvider(HaproxyOptions options)
      : options_(std::move(options)), api_(options_.socket, options_.timeout) {}

  // The slot's row; INVALID_ARGUMENT for a malformed or unknown backend, or no slot.
  absl::StatusOr<ServerState> Slot(const std::string& backend);
  // Points the slot at `target` and makes it ready.
  absl::Status Point(const std::string& backend, const Endpoint& target);
  // A command whose answer must be empty or contain one of `ok`.
  absl::Status Command(const std::string& command, std::initializer_list<const char*> ok);
  absl::Status SaveState();

  const HaproxyOptions options_;
  const RuntimeApi api_;
};

// Registers "haproxy": settings haproxy_socket, haproxy_slot, haproxy_state_file, haproxy_drain,
// haproxy_timeout.
absl::Status RegisterHaproxyTrafficProvider(TrafficProviderRegistry& registry);

}  // namespace shadowplane::providers::haproxy

#endif  // SHADOWPLANE_PROVIDERS_TRAFFIC_HAPROXY_HAPROXY_TRAFFIC_PROVIDER_H_
