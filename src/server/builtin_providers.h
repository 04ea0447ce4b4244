// Registers every provider implementation shipped with shadowplane. Explicit on purpose: static
// registration from a static library is dropped by the linker when nothing references it.
#ifndef SHADOWPLANE_SERVER_BUILTIN_PROVIDERS_H_
#define SHADOWPLANE_SERVER_BUILTIN_PROVIDERS_H_

#include "absl/status/status.h"
#include "providers/compute_provider_registry.h"
#include "providers/traffic_provider_registry.h"

namespace shadowplane::server {

absl::Status RegisterBuiltinComputeProviders(providers::ComputeProviderRegistry& registry);
absl::Status RegisterBuiltinTrafficProviders(providers::TrafficProviderRegistry& registry);

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_BUILTIN_PROVIDERS_H_
