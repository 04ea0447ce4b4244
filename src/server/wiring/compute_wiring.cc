#include "server/wiring/compute_wiring.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "common/log.h"
#include "common/secret_file.h"
#include "common/status_macros.h"
#include "server/builtin_providers.h"

namespace shadowplane::server {

absl::StatusOr<std::unique_ptr<ComputeWiring>> ComputeWiring::Build(const ComputeSettings& settings,
                                                                    const TrafficSettings& traffic,
                                                                    StorageWiring* storage,
                                                                    const WiringContext& context) {
  std::unique_ptr<ComputeWiring> w(new ComputeWiring());
  providers::ComputeProviderRegistry registry;
  RETURN_IF_ERROR(RegisterBuiltinComputeProviders(registry));
  store::InventoryStore* inventory = storage->inventory();
  providers::ComputeProviderContext compute_context;
  compute_context.location_endpoint = [inventory](const std::string& location) {
    return inventory->AgentEndpoint(location);
  };
  compute_context.call_timeout = settings.agent_call_timeout;
  compute_context.metrics = context.registry;
  compute_context.security = context.transport;
  auto compute = registry.Create(settings.compute_provider, compute_context);
  if (!compute.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--compute_provider: ", compute.status().message()));
  }
  w->compute_ = *std::move(compute);
  reconcile::OrphanReaperInputs inputs;
  inputs.locations = [inventory]() -> absl::StatusOr<std::vector<std::string>> {
    ASSIGN_OR_RETURN(auto endpoints, inventory->AgentEndpoints());
    std::vector<std::string> names;
    for (const auto& [name, endpoint] : endpoints) names.push_back(name);
    return names;
  };
  inputs.live_resources = [inventory](const std::vector<std::string>& ids) {
    return inventory->LiveResources(ids);
  };
  inputs.recorded_instances = [inventory](const std::vector<std::string>& ids) {
    return inventory->RecordedInstances(ids);
  };
  w->orphan_reaper_ = std::make_unique<reconcile::OrphanInstanceReaper>(w->compute_.get(), inputs,
                                                                        context.registry);
  RETURN_IF_ERROR(w->BuildTraffic(traffic, storage, context));
  return w;
}

// A TSIG secret comes from its file, so that it never shows in a process listing.
absl::Status ComputeWiring::BuildTraffic(const TrafficSettings& settings, StorageWiring* storage,
                                         const WiringContext& context) {
  if (settings.traffic_provider.empty()) return absl::OkStatus();
  providers::TrafficProviderRegistry registry;
  RETURN_IF_ERROR(RegisterBuiltinTrafficProviders(registry));
  providers::TrafficProviderContext traffic_context;
  traffic_context.settings = settings.provider_settings;
  if (auto file = traffic_context.settings.find("dns_tsig_secret_file");
      file != traffic_context.settings.end()) {
    // A key others may read is refused (common/secret_file.h); its bytes never reach a message.
    absl::StatusOr<std::string> secret = ReadSecretFile(file->second, "--dns_tsig_secret_file");
    if (!secret.ok()) return absl::InvalidArgumentError(secret.status().message());
    traffic_context.settings["dns_tsig_secret"] = *std::move(secret);
  }
  auto traffic = registry.Create(settings.traffic_provider, traffic_context);
  if (!traffic.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--traffic_provider=", settings.traffic_provider,
                                                   ": ", traffic.status().message()));
  }
  traffic_ = *std::move(traffic);
  switcher_ = std::make_unique<traffic::TrafficSwitcher>(
      traffic_.get(), storage->traffic_switches(), context.clock, context.registry);
  LOG_EVENT(kInfo, "traffic provider ready").Field("provider", traffic_->name());
  return absl::OkStatus();
}

}  // namespace shadowplane::server
