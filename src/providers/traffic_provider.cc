#include "providers/traffic_provider.h"

#include "absl/strings/str_cat.h"
#include "providers/traffic_provider_registry.h"

namespace shadowplane::providers {

absl::Status VerifyTarget(TrafficProvider& provider, const std::string& service,
                          const Endpoint& expected) {
  absl::StatusOr<Endpoint> current = provider.Current(service);
  if (absl::IsNotFound(current.status())) {
    return absl::FailedPreconditionError(absl::StrCat(
        service, " points nowhere on ", provider.name(), ", expected ", expected.ToString()));
  }
  if (!current.ok()) return current.status();
  if (!current->Matches(expected)) {
    return absl::FailedPreconditionError(absl::StrCat(service, " points at ", current->ToString(),
                                                      " on ", provider.name(), ", expected ",
                                                      expected.ToString()));
  }
  return absl::OkStatus();
}

std::string Setting(const TrafficProviderContext& context, const std::string& name) {
  auto it = context.settings.find(name);
  return it == context.settings.end() ? "" : it->second;
}

absl::StatusOr<absl::Duration> DurationSetting(const TrafficProviderContext& context,
                                               const std::string& name, absl::Duration fallback) {
  const std::string text = Setting(context, name);
  if (text.empty()) return fallback;
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " \"", text, "\" is not a duration such as 30s"));
  }
  return d;
}

}  // namespace shadowplane::providers
