#include "common/serving_status.h"

#include <utility>
#include <vector>

namespace shadowplane {

void ServingStatus::SetAll(bool serving) {
  std::vector<std::string> services;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [service, status] : status_) {
      status = serving;
      services.push_back(service);
    }
  }
  for (const std::string& service : services) Notify(service, serving);
}

void ServingStatus::Set(const std::string& service, bool serving) {
  {
    absl::MutexLock lock(&mu_);
    status_[service] = serving;
  }
  Notify(service, serving);
}

std::optional<bool> ServingStatus::Get(const std::string& service) const {
  absl::MutexLock lock(&mu_);
  const auto it = status_.find(service);
  if (it == status_.end()) return std::nullopt;
  return it->second;
}

int64_t ServingStatus::Subscribe(const std::string& service, Listener listener) {
  absl::MutexLock lock(&mu_);
  const int64_t id = next_id_++;
  listeners_[id] = Subscription{service, std::move(listener)};
  return id;
}

void ServingStatus::Unsubscribe(int64_t id) {
  absl::MutexLock lock(&mu_);
  listeners_.erase(id);
}

void ServingStatus::Notify(const std::string& service, bool serving) {
  std::vector<Listener> to_call;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, sub] : listeners_) {
      if (sub.service == service) to_call.push_back(sub.listener);
    }
  }
  for (const Listener& listener : to_call) listener(serving);
}

}  // namespace shadowplane
