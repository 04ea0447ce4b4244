// In-memory compute and traffic providers for in-process tests of the control plane's domain
// code (reservations, migrations): they keep instances and service endpoints in maps, answer the
// way the real providers do, and fail on demand. Test support only: never linked into a binary.
#ifndef SHADOWPLANE_TESTS_SUPPORT_FAKE_PROVIDERS_H_
#define SHADOWPLANE_TESTS_SUPPORT_FAKE_PROVIDERS_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "providers/compute_provider.h"
#include "providers/traffic_provider.h"

namespace shadowplane::testing {

class FakeComputeProvider : public providers::ComputeProvider {
 public:
  absl::StatusOr<providers::InstanceInfo> CreateInstance(
      const providers::InstanceSpec& spec) override;
  absl::StatusOr<providers::InstanceInfo> ScaleInstance(const std::string& location,
                                                        const std::string& instance_id,
                                                        const Capacity& capacity) override;
  absl::StatusOr<providers::InstanceInfo> SetReadOnly(const std::string& location,
                                                      const std::string& instance_id,
                                                      bool read_only) override;
  absl::StatusOr<providers::InstanceInfo> GrantWrites(const std::string& location,
                                                      const std::string& instance_id,
                                                      const providers::WriteGrant& grant) override;
  absl::StatusOr<providers::InstanceInfo> SetWriteRouting(
      const std::string& location, const std::string& instance_id,
      const providers::WriteRouting& routing) override;
  absl::StatusOr<providers::InstanceInfo> DeactivateInstance(const std::string& location,
                                                             const std::string& instance_id,
                                                             bool delete_data) override;
  absl::StatusOr<providers::InstanceInfo> DescribeInstance(const std::string& location,
                                                           const std::string& instance_id) override;
  absl::StatusOr<std::vector<providers::InstanceInfo>> ListInstances(
      const std::string& location) override;
  // What SetDisruptions() gave for the instance (none: an empty report), whatever `since` is.
  absl::StatusOr<providers::InstanceDisruptions> Disruptions(const std::string& location,
                                                             const std::string& instance_id,
                                                             absl::Time since) override;

  // What a migration will read of `instance_id`'s clients.
  void SetDisruptions(const std::string& instance_id, providers::InstanceDisruptions report);
  // Every call for `location` fails with `status` until cleared with OK.
  void FailAt(const std::string& location, absl::Status status);
  // Runs before each DescribeInstance answers, with the instance's id (e.g. to let a migration
  // act between a caller's read of the database and of the instance). May call the provider.
  void OnDescribe(std::function<void(const std::string& instance_id)> hook);
  // The instances the provider holds (deleted ones are gone), by id.
  std::map<std::string, providers::InstanceInfo> instances();
  int calls();

 private:
  absl::Status Check(const std::string& location) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<providers::InstanceInfo*> Find(const std::string& location, const std::string& id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<std::string, providers::InstanceInfo> instances_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Status> failing_ ABSL_GUARDED_BY(mu_);
  int next_address_ ABSL_GUARDED_BY(mu_) = 1;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void(const std::string&)> on_describe_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, providers::InstanceDisruptions> disruptions_ ABSL_GUARDED_BY(mu_);
};

class FakeTrafficProvider : public providers::TrafficProvider {
 public:
  std::string name() const override { return "fake"; }
  absl::Status Register(const std::string& service, const providers::Endpoint& target) override;
  absl::StatusOr<providers::Endpoint> Current(const std::string& service) override;
  absl::StatusOr<absl::Duration> Prepare(const std::string& service) override;
  absl::Status Switch(const std::string& service, const providers::Endpoint& from,
                      const providers::Endpoint& to, bool urgent) override;
  absl::Status Restore(const std::string& service) override;
  absl::StatusOr<absl::Duration> DrainPeriod(const std::string& service) override;
  absl::Status Unregister(const std::string& service, const providers::Endpoint& target) override;

  // Every call fails with `status` until cleared with OK.
  void Fail(absl::Status status);
  std::map<std::string, providers::Endpoint> services();

 private:
  absl::Mutex mu_;
  std::map<std::string, providers::Endpoint> services_ ABSL_GUARDED_BY(mu_);
  absl::Status failing_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shadowplane::testing

#endif  // SHADOWPLANE_TESTS_SUPPORT_FAKE_PROVIDERS_H_
