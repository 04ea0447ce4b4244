#include "providers/compute_provider_registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace shadowplane::providers {

absl::Status ComputeProviderRegistry::Register(const std::string& name,
                                               ComputeProviderFactory factory) {
  if (!factories_.emplace(name, std::move(factory)).second) {
    return absl::AlreadyExistsError(
        absl::StrCat("compute provider '", name, "' is registered twice"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ComputeProvider>> ComputeProviderRegistry::Create(
    const std::string& name, const ComputeProviderContext& context) const {
  const auto it = factories_.find(name);
  if (it == factories_.end()) {
    return absl::NotFoundError(absl::StrCat("unknown compute provider '", name,
                                            "'; known: ", absl::StrJoin(names(), ", ")));
  }
  return it->second(context);
}

std::vector<std::string> ComputeProviderRegistry::names() const {
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories_) names.push_back(name);
  return names;
}

}  // namespace shadowplane::providers
