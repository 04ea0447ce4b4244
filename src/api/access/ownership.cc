#include "api/access/ownership.h"

#include "absl/strings/str_cat.h"
#include "api/access/caller.h"

namespace shadowplane::api::access {
namespace {

bool ChangesEverything(const GateCaller& caller) { return caller.name.empty() || caller.admin; }

std::string TeamText(const std::string& team) {
  return team.empty() ? std::string("no team") : absl::StrCat("team '", team, "'");
}

}  // namespace

absl::Status MayChange(const GateCaller& caller, const std::string& owner_team,
                       absl::string_view what) {
  if (ChangesEverything(caller)) return absl::OkStatus();
  if (!caller.team.empty() && caller.team == owner_team) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      what, " belongs to ", TeamText(owner_team), "; caller '", caller.name, "' (",
      TeamText(caller.team), ") changes only its own team's reservations; an admin may"));
}

absl::StatusOr<std::string> TeamOfNewReservation(const GateCaller& caller,
                                                 const std::string& team) {
  if (!team.empty() && !IsShortName(team)) {
    return absl::InvalidArgumentError("team must be 1-63 of [a-z0-9-]");
  }
  if (ChangesEverything(caller)) return team.empty() ? caller.team : team;
  if (caller.team.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "caller '", caller.name,
        "' belongs to no team, and an operator's reservations belong to its team (give its "
        "entry in the tokens file a `team:`)"));
  }
  if (!team.empty() && team != caller.team) {
    return absl::PermissionDeniedError(absl::StrCat("caller '", caller.name, "' of team '",
                                                    caller.team, "' cannot reserve for team '",
                                                    team, "'; an admin may"));
  }
  return caller.team;
}

absl::Status Ownership::CheckReservation(const GateCaller& caller,
                                         const std::string& reservation_id) {
  return Check(caller, store::ReservationRepository::Owned::kReservation, reservation_id,
               "reservation");
}

absl::Status Ownership::CheckMigration(const GateCaller& caller, const std::string& migration_id) {
  return Check(caller, store::ReservationRepository::Owned::kMigration, migration_id,
               "the reservation of migration");
}

absl::Status Ownership::CheckDecision(const GateCaller& caller, const std::string& decision_id) {
  return Check(caller, store::ReservationRepository::Owned::kDecision, decision_id,
               "the reservation of decision");
}

absl::Status Ownership::Check(const GateCaller& caller, store::ReservationRepository::Owned what,
                              const std::string& id, absl::string_view noun) {
  if (ChangesEverything(caller)) return absl::OkStatus();
  absl::StatusOr<std::optional<std::string>> team = reservations_->OwnerTeamOf(what, id);
  if (!team.ok()) return team.status();
  if (!team->has_value()) return absl::OkStatus();
  return MayChange(caller, **team, absl::StrCat(noun, " ", id));
}

}  // namespace shadowplane::api::access
