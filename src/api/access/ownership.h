// Ownership: every reservation belongs to a team, the team of the caller that made it (an admin
// may name another). Operators change only their own team's reservations: release, update, sync,
// migrate, cancel a migration, apply a planner decision; admins change every one; anyone who may
// read, reads all. A team's quota (api/access/token_store.h's `teams:`) bounds what its live
// reservations hold (store/team_quota.h).
//
// Without authentication (--insecure without --tokens_file) there is no caller to check: every
// call may do anything, as the access rules (access_rules.h) then allow too.
#ifndef SHADOWPLANE_API_ACCESS_OWNERSHIP_H_
#define SHADOWPLANE_API_ACCESS_OWNERSHIP_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/call_gate.h"
#include "store/reservation_repository.h"

namespace shadowplane::api::access {

// OK when `caller` may change what `owner_team` (empty: no team) owns; PERMISSION_DENIED naming
// `what`, its team and the caller's otherwise.
absl::Status MayChange(const GateCaller& caller, const std::string& owner_team,
                       absl::string_view what);

// The team a reservation `caller` makes belongs to, given the request's `team` (may be empty):
// the caller's own team; an admin's may name any, and without one belongs to the admin's team
// (or to none). INVALID_ARGUMENT for a team that is not [a-z0-9-] (1-63); PERMISSION_DENIED for
// an operator naming another team, or of no team.
absl::StatusOr<std::string> TeamOfNewReservation(const GateCaller& caller, const std::string& team);

// MayChange for things named by id, their owner team looked up in the store. OK for an id that
// names nothing: the call's own lookup then answers NOT_FOUND (or INVALID_ARGUMENT). Callers who
// may change everything (admins, or none authenticated) cost no lookup.
class Ownership {
 public:
  explicit Ownership(store::ReservationRepository* reservations) : reservations_(reservations) {}

  absl::Status CheckReservation(const GateCaller& caller, const std::string& reservation_id);
  absl::Status CheckMigration(const GateCaller& caller, const std::string& migration_id);
  absl::Status CheckDecision(const GateCaller& caller, const std::string& decision_id);

 private:
  absl::Status Check(const GateCaller& caller, store::ReservationRepository::Owned what,
                     const std::string& id, absl::string_view noun);

  store::ReservationRepository* const reservations_;
};

}  // namespace shadowplane::api::access

#endif  // SHADOWPLANE_API_ACCESS_OWNERSHIP_H_
