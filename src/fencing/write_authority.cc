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
  absl::StatusOr<providers::InstanceInfo> info =
      compute_->GrantWrites(instance.location, instance.id, grant);
  if (!info.ok()) {
    // Unless the location refused it outright, the grant may have reached the instance though
    // the call failed (its agent died answering; the deadline passed): its lease is recorded as if
    // it had, counted from now, after the call, so that no other instance of the resource is made
    // writable before that lease has run out.
    const absl::StatusCode code = info.status().code();
    if (code != absl::StatusCode::kInvalidArgument &&
        code != absl::StatusCode::kFailedPrecondition && code != absl::StatusCode::kNotFound) {
      if (absl::Status recorded = Handed(instance.id, grant); !recorded.ok()) {
        LOG_EVENT(kWarning, "lease of a grant that may have arrived not recorded")
            .Field("instance_id", instance.id)
            .Field("error", recorded);
      }
    }
    return info.status();
  }
  RETURN_IF_ERROR(Handed(instance.id, grant));
  LOG_EVENT(kInfo, "write authority granted")
      .Field("instance_id", instance.id)
      .Field("location", instance.location)
      .Field("epoch", grant.epoch)
      .Field("handover", new_epoch);
  return *std::move(info);
}

absl::StatusOr<providers::InstanceInfo> WriteAuthority::Restore(
    const store::InstanceRecord& instance) {
  absl::StatusOr<providers::InstanceInfo> again = Grant(instance, /*new_epoch=*/false);
  if (absl::IsFailedPrecondition(again.status())) return Grant(instance, /*new_epoch=*/true);
  return again;
}

}  // namespace shadowplane::fencing
