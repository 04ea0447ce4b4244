// Providers of one kind (compute, traffic) by name, built from configuration (Envoy's factory
// registry, registered explicitly by src/server/: static initializers get dropped from static
// libraries). Register before use; Create is thread-safe once registration is done.
#ifndef SHADOWPLANE_PROVIDERS_PROVIDER_REGISTRY_H_
#define SHADOWPLANE_PROVIDERS_PROVIDER_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace shadowplane::providers {

template <typename Provider, typename Context>
class ProviderRegistry {
 public:
  using Factory = std::function<absl::StatusOr<std::unique_ptr<Provider>>(const Context& context)>;

  // `kind` names the providers in errors ("compute", "traffic").
  explicit ProviderRegistry(std::string kind) : kind_(std::move(kind)) {}

  // ALREADY_EXISTS when the name is taken.
  absl::Status Register(const std::string& name, Factory factory) {
    if (!factories_.emplace(name, std::move(factory)).second) {
      return absl::AlreadyExistsError(
          absl::StrCat(kind_, " provider '", name, "' is registered twice"));
    }
    return absl::OkStatus();
  }
  // NOT_FOUND naming the known providers when `name` is not one.
  absl::StatusOr<std::unique_ptr<Provider>> Create(const std::string& name,
                                                   const Context& context) const {
    const auto it = factories_.find(name);
    if (it == factories_.end()) {
      return absl::NotFoundError(absl::StrCat("unknown ", kind_, " provider '", name,
                                              "'; known: ", absl::StrJoin(names(), ", ")));
    }
    return it->second(context);
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, factory] : factories_) out.push_back(name);
    return out;
  }

 private:
  const std::string kind_;
  std::map<std::string, Factory> factories_;
};

}  // namespace shadowplane::providers

#endif  // SHADOWPLANE_PROVIDERS_PROVIDER_REGISTRY_H_
