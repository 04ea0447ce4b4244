#include "server/builtin_providers.h"

#include "common/status_macros.h"
#include "providers/compute/local/local_compute_provider.h"
#include "providers/traffic/haproxy/haproxy_traffic_provider.h"
#include "providers/traffic/rfc2136/rfc2136_traffic_provider.h"

namespace shadowplane::server {

absl::Status RegisterBuiltinComputeProviders(providers::ComputeProviderRegistry& registry) {
  return providers::RegisterLocalComputeProvider(registry);
}

absl::Status RegisterBuiltinTrafficProviders(providers::TrafficProviderRegistry& registry) {
  RETURN_IF_ERROR(providers::haproxy::RegisterHaproxyTrafficProvider(registry));
  return providers::rfc2136::RegisterRfc2136TrafficProvider(registry);
}

}  // namespace shadowplane::server
