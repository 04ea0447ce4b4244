// Traffic providers by name (providers/provider_registry.h): "haproxy", "rfc2136".
#ifndef SHADOWPLANE_PROVIDERS_TRAFFIC_PROVIDER_REGISTRY_H_
#define SHADOWPLANE_PROVIDERS_TRAFFIC_PROVIDER_REGISTRY_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "providers/provider_registry.h"
#include "providers/traffic_provider.h"

namespace shadowplane::providers {

// What a traffic provider is built from: its settings by name, as the server's flags give them
// (dns_server, dns_zone, haproxy_socket, ...; see README.md, Configuration).
struct TrafficProviderContext {
  std::map<std::string, std::string> settings;
};

class TrafficProviderRegistry : public ProviderRegistry<TrafficProvider, TrafficProviderContext> {
 public:
  TrafficProviderRegistry() : ProviderRegistry("traffic") {}
};

// A setting's text ("" when absent).
std::string Setting(const TrafficProviderContext& context, const std::string& name);
// A duration setting ("30s"); `fallback` when absent; INVALID_ARGUMENT naming it when malformed.
absl::StatusOr<absl::Duration> DurationSetting(const TrafficProviderContext& context,
                                               const std::string& name, absl::Duration fallback);

}  // namespace shadowplane::providers

#endif  // SHADOWPLANE_PROVIDERS_TRAFFIC_PROVIDER_REGISTRY_H_
