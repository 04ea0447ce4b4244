// Compute providers by name (providers/provider_registry.h).
#ifndef SHADOWPLANE_PROVIDERS_COMPUTE_PROVIDER_REGISTRY_H_
#define SHADOWPLANE_PROVIDERS_COMPUTE_PROVIDER_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "providers/compute_provider.h"
#include "providers/provider_registry.h"

namespace prometheus {
class Registry;
}

namespace shadowplane {
class TransportSecurity;
}  // namespace shadowplane

namespace shadowplane::providers {

// What any compute provider may need from the process that builds it.
struct ComputeProviderContext {
  // The agent (or API) endpoint that manages `location`; NOT_FOUND for an unknown location.
  std::function<absl::StatusOr<std::string>(const std::string& location)> location_endpoint;
  // Deadline of one call, and how many times a retriable failure is tried.
  absl::Duration call_timeout = absl::Seconds(15);
  int max_attempts = 3;
  prometheus::Registry* metrics = nullptr;  // may be null
  // How agents are reached: TLS, each agent proving its location with its certificate
  // (common/transport_security.h), or plaintext (null).
  std::shared_ptr<const TransportSecurity> security;
};

using ComputeProviderFactory = std::function<absl::StatusOr<std::unique_ptr<ComputeProvider>>(
    const ComputeProviderContext& context)>;

class ComputeProviderRegistry : public ProviderRegistry<ComputeProvider, ComputeProviderContext> {
 public:
  ComputeProviderRegistry() : ProviderRegistry("compute") {}
};

}  // namespace shadowplane::providers

#endif  // SHADOWPLANE_PROVIDERS_COMPUTE_PROVIDER_REGISTRY_H_
