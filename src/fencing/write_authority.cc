#include "fencing/write_authority.h"

#include "common/log.h"
#include "common/status_macros.h"

namespace shadowplane::fencing {

absl::StatusOr<providers::WriteGrant> WriteAuthority::Prepare(const std::string& instance_id,
                                                              bool new_epoch) {
  ASSIGN_OR_RETURN(int64_t epoch, leases_->Grant(instance_id, new_epoch, clock_->Now()));
  return providers::WriteGrant{epoch, lease_};
}

absl::Status WriteAuthority::Handed(const std::string& instance_id,
                                    const providers::WriteGrant& grant) {
  return leases_->RecordLease(instance_id, grant.epoch, grant.lease);
}

absl::StatusOr<providers::InstanceInfo> WriteAuthority::Grant(const store::InstanceRecord& instance,
                                                              bool new_epoch) {
  ASSIGN_OR_RETURN(providers::WriteGrant grant, Prepare(instance.id, new_epoch));
  ASSIGN_OR_RETURN(providers::InstanceInfo info,
                   compute_->GrantWrites(instance.location, instance.id, grant));
  RETURN_IF_ERROR(Handed(instance.id, grant));
  LOG_EVENT(kInfo, "write authority granted")
      .Field("instance_id", instance.id)
      .Field("location", instance.location)
      .Field("epoch", grant.epoch)
      .Field("handover", new_epoch);
  return info;
}

absl::StatusOr<providers::InstanceInfo> WriteAuthority::Restore(
    const store::InstanceRecord& instance) {
  absl::StatusOr<providers::InstanceInfo> again = Grant(instance, /*new_epoch=*/false);
  if (absl::IsFailedPrecondition(again.status())) return Grant(instance, /*new_epoch=*/true);
  return again;
}

}  // namespace shadowplane::fencing
