// Per-team quotas (common/capacity.h's TeamQuota), checked where reservations are made or grow:
// inside the writing transaction, under a per-team lock held until it ends, so two calls of one
// team can never both take the last of its quota. A team's use is the sum of its live
// reservations (pending, active, releasing): their nominal size, the primary's; a shadow is
// the platform's cost of keeping the resource, not the team's.
#ifndef SHADOWPLANE_STORE_TEAM_QUOTA_H_
#define SHADOWPLANE_STORE_TEAM_QUOTA_H_

#include <pqxx/pqxx>
#include <string>

#include "absl/status/status.h"
#include "common/capacity.h"

namespace shadowplane::store {

// RESOURCE_EXHAUSTED naming the team, the limit, its use and what was asked when `used` plus
// `asked` exceeds either of `quota`'s limits (without overflow: a sum past INT64_MAX exceeds).
absl::Status WithinTeamQuota(const std::string& team, const TeamQuota& quota, const Capacity& used,
                             const Capacity& asked);

// Takes the team's lock in `txn` and checks its live reservations but `except_reservation` (a
// reservation id, or empty) plus `asked` against `quota`.
absl::Status CheckTeamQuota(pqxx::work& txn, const std::string& team, const TeamQuota& quota,
                            const Capacity& asked, const std::string& except_reservation);

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_TEAM_QUOTA_H_
