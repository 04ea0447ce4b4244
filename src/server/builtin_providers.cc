#include "server/builtin_providers.h"

#include "providers/compute/local/local_compute_provider.h"

namespace shadowplane::server {

absl::Status RegisterBuiltinComputeProviders(providers::ComputeProviderRegistry& registry) {
  return providers::RegisterLocalComputeProvider(registry);
}

}  // namespace shadowplane::server
