// shadowplane.agent.v1.WriteLeaseService, served by the control plane for its agents: renews the
// write leases of the instances an agent runs read-write (store/write_lease_repository.h decides).
// A thin handler; blocking work runs on `workers`. Thread-safe.
#ifndef SHADOWPLANE_API_WRITE_LEASE_SERVICE_H_
#define SHADOWPLANE_API_WRITE_LEASE_SERVICE_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/worker_pool.h"
#include "shadowplane/agent/v1/write_lease.grpc.pb.h"
#include "store/write_lease_repository.h"

namespace prometheus {
class Registry;
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane::api {

// The most leases one call may carry.
inline constexpr int kMaxLeasesPerRenewal = 4096;

// INVALID_ARGUMENT naming the field: an empty or over-long location, more than
// kMaxLeasesPerRenewal leases, an instance id that is not a UUID, an epoch below 1.
absl::Status ValidateRenewal(const shadowplane::agent::v1::RenewWriteLeasesRequest& request);

class WriteLeaseService final : public shadowplane::agent::v1::WriteLeaseService::CallbackService {
 public:
  // `lease` is what every renewal grants (--write_lease). `registry` may be null.
  WriteLeaseService(store::WriteLeaseRepository* leases, absl::Duration lease, WorkerPool* workers,
                    prometheus::Registry* registry);

  grpc::ServerUnaryReactor* RenewWriteLeases(
      grpc::CallbackServerContext* context,
      const shadowplane::agent::v1::RenewWriteLeasesRequest* request,
      shadowplane::agent::v1::RenewWriteLeasesResponse* response) override;

 private:
  store::WriteLeaseRepository* const leases_;
  const absl::Duration lease_;
  WorkerPool* const workers_;
  prometheus::Family<prometheus::Counter>* renewals_ = nullptr;
};

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_WRITE_LEASE_SERVICE_H_
