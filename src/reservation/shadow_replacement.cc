// A shadow lost with its location (reconcile/location_health_monitor.h), or in a location being
// drained (migration/location_drainer.h), is rebuilt at another location that satisfies the
// diversity rule for the current primary, from the seed; shadow sync brings it up to date on its
// next round. The old shadow is recorded retired and failed: the orphan reaper deactivates it
// (keeping its data) as soon as its agent answers. Until then the reservation has no good round on
// record, so an emergency promotion of the new shadow reports the whole time since the reservation
// was made as its loss window.
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "planner/placement_constraint.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "reservation/reservation_manager.h"

namespace shadowplane::reservation {

absl::Status ReservationManager::ReplaceShadowNow(const std::string& reservation_id,
                                                  const char* why) {
  ASSIGN_OR_RETURN(store::ReservationRecord r, reservations_->Get(reservation_id));
  return ReplaceShadowAway(r, why);
}

absl::Status ReservationManager::ReplaceShadowAway(const store::ReservationRecord& listed,
                                                   const char* why) {
  auto claim = Claim(listed.id, absl::Seconds(1));
  if (!claim.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("reservation ", listed.id, " is being changed by another call"));
  }
  auto current = reservations_->Get(listed.id);
  RETURN_IF_ERROR(current.status());
  if (current->state != "active" || current->shadow.id != listed.shadow.id) {
    return absl::FailedPreconditionError(absl::StrCat("reservation ", listed.id, " is ",
                                                      current->state, " with shadow ",
                                                      current->shadow.id, ": nothing to replace"));
  }
  const store::ReservationRecord& r = *current;
  auto blocked = [&](const absl::Status& error) {
    if (shadows_replaced_ != nullptr) {
      shadows_replaced_->Add({{"reason", std::string(why)}, {"result", "blocked"}}).Increment();
    }
    LOG_EVENT(kWarning, "shadow cannot be moved out of its location yet")
        .Field("why", why)
        .Field("reservation_id", r.id)
        .Field("shadow_id", r.shadow.id)
        .Field("location", r.shadow.location)
        .Field("error", error);
    return error;
  };
  std::map<std::string, planner::RegionFacts> regions;
  absl::StatusOr<std::map<std::string, planner::LocationFacts>> locations = LoadLocations(&regions);
  if (!locations.ok()) return blocked(locations.status());
  planner::PlacementConstraint constraint;
  planner::PlacementFromJson(r.placement_json, &constraint);  // unreadable: anywhere
  absl::StatusOr<std::vector<std::string>> allowed =
      planner::AllowedLocations(constraint.locations, constraint.regions, *locations, regions);
  if (!allowed.ok()) return blocked(allowed.status());
  absl::StatusOr<planner::ShadowPlacement> placed = planner::PlaceShadow(
      r.primary.location, planner::ShadowCapacity(r.capacity, r.shadow_capacity_fraction), *allowed,
      *locations, regions, options_.rtt, options_.cost);
  if (!placed.ok()) return blocked(placed.status());
  absl::StatusOr<store::InstanceRecord> shadow = reservations_->ReplaceShadow(
      r.resource_id, r.shadow.id, placed->location, placed->capacity, clock_->Now());
  if (!shadow.ok()) return blocked(shadow.status());
  if (shadows_replaced_ != nullptr) {
    shadows_replaced_->Add({{"reason", std::string(why)}, {"result", "replaced"}}).Increment();
  }
  LOG_EVENT(kWarning, "shadow rebuilt elsewhere")
      .Field("why", why)
      .Field("reservation_id", r.id)
      .Field("old_shadow_id", r.shadow.id)
      .Field("old_location", r.shadow.location)
      .Field("shadow_id", shadow->id)
      .Field("location", shadow->location)
      .Field("explanation", placed->explanation);
  CreateReplacementShadow(r, *shadow);
  return absl::OkStatus();
}

void ReservationManager::CreateReplacementShadow(const store::ReservationRecord& r,
                                                 const store::InstanceRecord& shadow) {
  providers::InstanceSpec spec = SpecOf(r, shadow);
  spec.read_only = true;
  absl::StatusOr<providers::InstanceInfo> created = compute_->CreateInstance(spec);
  if (!created.ok()) {
    // Recorded as creating: the next pass tries again.
    LOG_EVENT(kWarning, "new shadow could not be created yet")
        .Field("reservation_id", r.id)
        .Field("shadow_id", shadow.id)
        .Field("location", shadow.location)
        .Field("error", created.status());
    return;
  }
  if (absl::Status s =
          reservations_->SetInstance(shadow.id, "running", created->endpoint, clock_->Now());
      !s.ok()) {
    LOG_EVENT(kWarning, "new shadow running but not recorded yet")
        .Field("shadow_id", shadow.id)
        .Field("error", s);
  }
}

}  // namespace shadowplane::reservation
