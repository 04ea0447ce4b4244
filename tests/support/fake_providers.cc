#include "support/fake_providers.h"

#include "absl/strings/str_cat.h"

namespace shadowplane::testing {

using providers::InstanceInfo;

absl::Status FakeComputeProvider::Check(const std::string& location) {
  ++calls_;
  auto it = failing_.find(location);
  return it == failing_.end() ? absl::OkStatus() : it->second;
}

absl::StatusOr<InstanceInfo*> FakeComputeProvider::Find(const std::string& location,
                                                        const std::string& id) {
  auto it = instances_.find(id);
  if (it == instances_.end() || it->second.location != location) {
    return absl::NotFoundError(absl::StrCat("instance ", id, " not found at ", location));
  }
  return &it->second;
}

absl::StatusOr<InstanceInfo> FakeComputeProvider::CreateInstance(
    const providers::InstanceSpec& spec) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Check(spec.location); !s.ok()) return s;
  // As an agent does: no writes without write authority.
  if (!spec.read_only && spec.grant.epoch < 1) {
    return absl::InvalidArgumentError("grant.epoch must be 1 or more");
  }
  // Stricter than an agent, which takes none: the control plane hands every instance it creates
  // its resource's forwarding secret (instance/forward_auth.h), and tests through this fake see
  // that it does.
  if (spec.forward_secret.size() != 64 ||
      spec.forward_secret.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return absl::InvalidArgumentError("forward_secret must be the resource's (64 hex digits)");
  }
  if (auto it = instances_.find(spec.instance_id); it != instances_.end()) {
    it->second.state = providers::InstanceRunState::kRunning;  // a retried create, or a restart
    return it->second;
  }
  InstanceInfo info;
  info.instance_id = spec.instance_id;
  info.resource_id = spec.resource_id;
  info.location = spec.location;
  info.capacity = spec.capacity;
  info.read_only = spec.read_only;
  if (!spec.read_only) {
    info.epoch = spec.grant.epoch;
    info.write_lease_left = spec.grant.lease;
  }
  info.state = providers::InstanceRunState::kRunning;
  info.endpoint = absl::StrCat("127.0.2.", next_address_++, ":8080");
  instances_[spec.instance_id] = info;
  return info;
}

absl::StatusOr<InstanceInfo> FakeComputeProvider::ScaleInstance(const std::string& location,
                                                                const std::string& instance_id,
                                                                const Capacity& capacity) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Check(location); !s.ok()) return s;
  absl::StatusOr<InstanceInfo*> i = Find(location, instance_id);
  if (!i.ok()) return i.status();
  (*i)->capacity = capacity;
  return **i;
}

absl::StatusOr<InstanceInfo> FakeComputeProvider::SetReadOnly(const std::string& location,
                                                              const std::string& instance_id,
                                                              bool read_only) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Check(location); !s.ok()) return s;
  absl::StatusOr<InstanceInfo*> i = Find(location, instance_id);
  if (!i.ok()) return i.status();
  if (!read_only) return absl::InvalidArgumentError("grant.epoch: read-write takes a grant");
  (*i)->read_only = read_only;
  return **i;
}

absl::StatusOr<InstanceInfo> FakeComputeProvider::GrantWrites(const std::string& location,
                                                              const std::string& instance_id,
                                                              const providers::WriteGrant& grant) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Check(location); !s.ok()) return s;
  absl::StatusOr<InstanceInfo*> i = Find(location, instance_id);
  if (!i.ok()) return i.status();
  if (grant.epoch < 1) return absl::InvalidArgumentError("grant.epoch must be 1 or more");
  if (grant.epoch < (*i)->epoch) {
    return absl::FailedPreconditionError(absl::StrCat("instance ", instance_id, " holds epoch ",
                                                      (*i)->epoch, "; grant of ", grant.epoch,
                                                      " is stale"));
  }
  (*i)->read_only = false;
  (*i)->epoch = grant.epoch;
  (*i)->write_lease_left = grant.lease;
  return **i;
}

absl::StatusOr<InstanceInfo> FakeComputeProvider::SetWriteRouting(
    const std::string& location, const std::string& instance_id,
    const providers::WriteRouting& routing) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Check(location); !s.ok()) return s;
  absl::StatusOr<InstanceInfo*> i = Find(location, instance_id);
  if (!i.ok()) return i.status();
  (*i)->hold_writes = routing.hold_writes;
  (*i)->forward_writes_to = routing.forward_writes_to;
  if (!routing.forward_writes_to.empty()) (*i)->read_only = true;
  return **i;
}

absl::StatusOr<InstanceInfo> FakeComputeProvider::DeactivateInstance(const std::string& location,
                                                                     const std::string& instance_id,
                                                                     bool delete_data) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Check(location); !s.ok()) return s;
  absl::StatusOr<InstanceInfo*> i = Find(location, instance_id);
  if (!i.ok()) return i.status();
  InstanceInfo info = **i;
  info.state =
      delete_data ? providers::InstanceRunState::kDeleted : providers::InstanceRunState::kStopped;
  if (delete_data) {
    instances_.erase(instance_id);
  } else {
    (*i)->state = providers::InstanceRunState::kStopped;
  }
  return info;
}

void FakeComputeProvider::OnDescribe(std::function<void(const std::string&)> hook) {
  absl::MutexLock lock(&mu_);
  on_describe_ = std::move(hook);
}

absl::StatusOr<InstanceInfo> FakeComputeProvider::DescribeInstance(const std::string& location,
                                                                   const std::string& instance_id) {
  std::function<void(const std::string&)> hook;
  {
    absl::MutexLock lock(&mu_);
    hook = on_describe_;
  }
  if (hook) hook(instance_id);
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Check(location); !s.ok()) return s;
  absl::StatusOr<InstanceInfo*> i = Find(location, instance_id);
  if (!i.ok()) return i.status();
  return **i;
}

absl::StatusOr<std::vector<InstanceInfo>> FakeComputeProvider::ListInstances(
    const std::string& location) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Check(location); !s.ok()) return s;
  std::vector<InstanceInfo> out;
  for (const auto& [id, info] : instances_) {
    if (info.location == location) out.push_back(info);
  }
  return out;
}

absl::StatusOr<providers::InstanceDisruptions> FakeComputeProvider::Disruptions(
    const std::string& location, const std::string& instance_id, absl::Time since) {
  (void)since;
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Check(location); !s.ok()) return s;
  if (absl::StatusOr<InstanceInfo*> found = Find(location, instance_id); !found.ok()) {
    return found.status();
  }
  const auto it = disruptions_.find(instance_id);
  return it == disruptions_.end() ? providers::InstanceDisruptions{} : it->second;
}

void FakeComputeProvider::SetDisruptions(const std::string& instance_id,
                                         providers::InstanceDisruptions report) {
  absl::MutexLock lock(&mu_);
  disruptions_[instance_id] = std::move(report);
}

void FakeComputeProvider::FailAt(const std::string& location, absl::Status status) {
  absl::MutexLock lock(&mu_);
  if (status.ok()) {
    failing_.erase(location);
  } else {
    failing_[location] = std::move(status);
  }
}

std::map<std::string, InstanceInfo> FakeComputeProvider::instances() {
  absl::MutexLock lock(&mu_);
  return instances_;
}

int FakeComputeProvider::calls() {
  absl::MutexLock lock(&mu_);
  return calls_;
}

absl::Status FakeTrafficProvider::Register(const std::string& service,
                                           const providers::Endpoint& target) {
  absl::MutexLock lock(&mu_);
  if (!failing_.ok()) return failing_;
  auto it = services_.find(service);
  if (it != services_.end() && !it->second.Matches(target)) {
    return absl::FailedPreconditionError(
        absl::StrCat(service, " points at ", it->second.ToString()));
  }
  services_[service] = target;
  return absl::OkStatus();
}

absl::StatusOr<providers::Endpoint> FakeTrafficProvider::Current(const std::string& service) {
  absl::MutexLock lock(&mu_);
  if (!failing_.ok()) return failing_;
  auto it = services_.find(service);
  if (it == services_.end()) return absl::NotFoundError(absl::StrCat(service, " points nowhere"));
  return it->second;
}

absl::StatusOr<absl::Duration> FakeTrafficProvider::Prepare(const std::string&) {
  absl::MutexLock lock(&mu_);
  if (!failing_.ok()) return failing_;
  return absl::ZeroDuration();
}

absl::Status FakeTrafficProvider::Switch(const std::string& service,
                                         const providers::Endpoint& from,
                                         const providers::Endpoint& to, bool) {
  absl::MutexLock lock(&mu_);
  if (!failing_.ok()) return failing_;
  auto it = services_.find(service);
  if (it == services_.end()) return absl::NotFoundError(absl::StrCat(service, " points nowhere"));
  if (it->second.Matches(to)) return absl::OkStatus();
  if (!it->second.Matches(from)) {
    return absl::FailedPreconditionError(
        absl::StrCat(service, " points at ", it->second.ToString()));
  }
  it->second = to;
  return absl::OkStatus();
}

absl::Status FakeTrafficProvider::Restore(const std::string&) {
  absl::MutexLock lock(&mu_);
  return failing_;
}

absl::StatusOr<absl::Duration> FakeTrafficProvider::DrainPeriod(const std::string&) {
  absl::MutexLock lock(&mu_);
  if (!failing_.ok()) return failing_;
  return absl::ZeroDuration();
}

absl::Status FakeTrafficProvider::Unregister(const std::string& service,
                                             const providers::Endpoint& target) {
  absl::MutexLock lock(&mu_);
  if (!failing_.ok()) return failing_;
  auto it = services_.find(service);
  if (it == services_.end()) return absl::OkStatus();
  if (!it->second.Matches(target)) {
    return absl::FailedPreconditionError(
        absl::StrCat(service, " points at ", it->second.ToString()));
  }
  services_.erase(it);
  return absl::OkStatus();
}

void FakeTrafficProvider::Fail(absl::Status status) {
  absl::MutexLock lock(&mu_);
  failing_ = std::move(status);
}

std::map<std::string, providers::Endpoint> FakeTrafficProvider::services() {
  absl::MutexLock lock(&mu_);
  return services_;
}

}  // namespace shadowplane::testing
