// Hands a resource's write authority to one of its instances (fencing, see
// store/write_lease_repository.h): the grant is recorded first (moving the resource's epoch on for
// a handover), then sent to the instance's location, then the lease the location now enforces is
// recorded, counted from after the location answered; also when the call failed in a way that
// leaves open whether the grant arrived (UNAVAILABLE, a deadline). Used wherever an instance is
// made read-write: a reservation's first primary, a primary restarted by the reconcile loop, a
// cutover's target, an emergency promotion, a rollback to the source. Thread-safe.
#ifndef SHADOWPLANE_FENCING_WRITE_AUTHORITY_H_
#define SHADOWPLANE_FENCING_WRITE_AUTHORITY_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "providers/compute_provider.h"
#include "store/reservation_repository.h"
#include "store/write_lease_repository.h"

namespace shadowplane::fencing {

class WriteAuthority {
 public:
  // `lease` is --write_lease: how long a grant or renewal holds.
  WriteAuthority(store::WriteLeaseRepository* leases, providers::ComputeProvider* compute,
                 const Clock* clock, absl::Duration lease)
      : leases_(leases), compute_(compute), clock_(clock), lease_(lease) {}

  absl::Duration lease() const { return lease_; }

  // Makes `instance` read-write under a grant: a handover (`new_epoch`, which fences every other
  // instance of the resource) or the current epoch again (FAILED_PRECONDITION unless it holds
  // it). Errors of the location as the compute provider reports them.
  absl::StatusOr<providers::InstanceInfo> Grant(const store::InstanceRecord& instance,
                                                bool new_epoch);
  // Writes back to an instance that held them (a rollback): in its epoch if no other instance
  // was granted them since, else in a new one.
  absl::StatusOr<providers::InstanceInfo> Restore(const store::InstanceRecord& instance);
  // The instance's lease as recorded.
  absl::StatusOr<store::InstanceLease> Lease(const std::string& instance_id) {
    return leases_->Lease(instance_id);
  }
  // For an instance created read-write: the grant to put in its spec, recorded first; Handed()
  // once the location has answered.
  absl::StatusOr<providers::WriteGrant> Prepare(const std::string& instance_id, bool new_epoch);
  absl::Status Handed(const std::string& instance_id, const providers::WriteGrant& grant);

 private:
  store::WriteLeaseRepository* const leases_;
  providers::ComputeProvider* const compute_;
  const Clock* const clock_;
  const absl::Duration lease_;
};

}  // namespace shadowplane::fencing

#endif  // SHADOWPLANE_FENCING_WRITE_AUTHORITY_H_
