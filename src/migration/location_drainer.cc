#include "migration/location_drainer.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <limits>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "planner/location_facts.h"
#include "planner/placement_constraint.h"

namespace shadowplane::migration {

LocationDrainer::LocationDrainer(store::LocationRepository* locations,
                                 store::ReservationRepository* reservations,
                                 store::DecisionRepository* decisions, MigrationManager* migrations,
                                 const Clock* clock, DrainOptions options,
                                 prometheus::Registry* registry)
    : locations_(locations),
      reservations_(reservations),
      decisions_(decisions),
      migrations_(migrations),
      clock_(clock),
      options_(std::move(options)) {
  if (registry == nullptr) return;
  moves_ = &prometheus::BuildCounter()
                .Name("shadowplane_location_drain_moves_total")
                .Help(
                    "Planned migrations a location drain asked for, by result (requested, "
                    "refused; budget: held back by the fleet's hourly budget of planned moves).")
                .Register(*registry);
  left_ = &prometheus::BuildGauge()
               .Name("shadowplane_location_drain_left")
               .Help("Instances still in draining locations, by kind (primaries, shadows).")
               .Register(*registry);
}

absl::StatusOr<DrainProgress> LocationDrainer::Start(const std::string& location,
                                                     const std::string& reason) {
  ASSIGN_OR_RETURN(
      store::LocationRecord l,
      locations_->SetDrain(location, clock_->Now(), reason.empty() ? "draining" : reason));
  LOG_EVENT(kWarning, "location drain started")
      .Field("location", location)
      .Field("reason", l.cordon_reason);
  return Walk(l, /*catalog=*/nullptr);
}

absl::StatusOr<DrainProgress> LocationDrainer::Progress(const std::string& location) {
  ASSIGN_OR_RETURN(store::LocationRecord l, locations_->GetLocation(location));
  if (!l.drain_started_at.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat("location ", location, " is not draining"));
  }
  return Walk(l, /*catalog=*/nullptr);
}

absl::Status LocationDrainer::RunOnce() {
  ASSIGN_OR_RETURN(const store::LocationCatalog catalog, locations_->LoadAll());
  int primaries = 0, shadows = 0;
  for (const store::LocationRecord& l : catalog.locations) {
    if (!l.drain_started_at.has_value()) continue;
    absl::StatusOr<DrainProgress> progress = Walk(l, &catalog);
    if (!progress.ok()) {
      LOG_EVENT(kWarning, "location drain pass failed")
          .Field("location", l.name)
          .Field("error", progress.status());
      continue;
    }
    primaries += progress->primaries_left;
    shadows += progress->shadows_left;
  }
  if (left_ != nullptr) {
    left_->Add({{"kind", "primaries"}}).Set(primaries);
    left_->Add({{"kind", "shadows"}}).Set(shadows);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> LocationDrainer::TargetFor(const store::ReservationRecord& r,
                                                       const store::LocationCatalog& catalog) {
  for (const store::LocationRecord& l : catalog.locations) {
    if (l.name == r.shadow.location && l.Usable() && r.shadow.state == "running") return l.name;
  }
  // No usable shadow location: the best usable location the placement allows.
  planner::CatalogFacts facts = planner::FactsOf(catalog);
  planner::PlacementConstraint constraint;
  planner::PlacementFromJson(r.placement_json, &constraint);  // unreadable: anywhere
  planner::PlacementRequest request;
  request.capacity = r.capacity;
  request.shadow_capacity_fraction = r.shadow_capacity_fraction;
  request.locations = constraint.locations;
  request.regions = constraint.regions;
  request.client_regions = constraint.client_regions;
  ASSIGN_OR_RETURN(
      planner::Placement placed,
      planner::Place(request, facts.locations, facts.regions, options_.rtt, options_.cost));
  return placed.primary_location;
}

absl::StatusOr<DrainProgress> LocationDrainer::Walk(const store::LocationRecord& location,
                                                    const store::LocationCatalog* catalog) {
  DrainProgress progress;
  progress.location = location;
  std::vector<const store::ReservationRecord*> to_move;
  store::ReservationFilter filter;
  filter.state = "active";
  filter.location = location.name;
  filter.page_size = 500;
  std::vector<store::ReservationRecord> all;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<store::ReservationRecord> page, reservations_->List(filter));
    for (store::ReservationRecord& r : page) all.push_back(std::move(r));
    if (page.size() < static_cast<size_t>(filter.page_size)) break;
    filter.after = all.back().id;
  }
  for (const store::ReservationRecord& r : all) {
    if (r.shadow.location == location.name && store::IsLive(r.shadow)) {
      ++progress.shadows_left;
    }
    if (r.primary.location != location.name) continue;
    ++progress.primaries_left;
    // The drain's move of this primary, if it asked for one: Migrate is idempotent by request id,
    // so asking again reads it back.
    store::MigrationFilter mine;
    mine.resource_id = r.resource_id;
    mine.page_size = 20;
    ASSIGN_OR_RETURN(std::vector<store::MigrationRecord> moves, migrations_->List(mine));
    const std::string request_id = absl::StrCat("drain-", location.name, "-", r.primary.id);
    const store::MigrationRecord* asked = nullptr;
    bool other_move = false;
    for (const store::MigrationRecord& m : moves) {
      // A move being observed has moved its primary already: it does not hold this one back.
      const bool at_work = !store::IsFinal(m.state) && m.state != store::MigrationState::kObserving;
      if (m.request_id == request_id) {
        asked = &m;
      } else if (at_work) {
        other_move = true;
      }
    }
    if (asked != nullptr && !store::IsFinal(asked->state)) {
      ++progress.moves_in_flight;
    } else if (asked != nullptr) {
      progress.blocked.push_back(absl::StrCat("reservation ", r.id, ": its drain move ended ",
                                              store::StateName(asked->state),
                                              asked->error.empty() ? "" : ": ", asked->error));
    } else if (other_move) {
      ++progress.moves_in_flight;  // another migration of it runs: it may move it out
    } else {
      to_move.push_back(&r);
    }
  }
  if (to_move.empty()) return progress;
  if (location.lost_at.has_value()) {
    // A planned move needs its source: a lost location's primaries fail over instead
    // (migration/primary_loss_detector.h), and a move asked for here would only hold them up.
    progress.blocked.push_back(absl::StrCat("the location is lost: its ", to_move.size(),
                                            " primaries fail over rather than move"));
    return progress;
  }
  int budget_left = options_.max_moves_per_hour;
  if (decisions_ != nullptr) {
    ASSIGN_OR_RETURN(const int recent,
                     decisions_->PlannedMovesSince(clock_->Now() - absl::Hours(1)));
    budget_left -= recent;
  }
  auto out_of_budget = [&](size_t waiting) {
    progress.blocked.push_back(
        absl::StrCat("the fleet's budget of ", options_.max_moves_per_hour,
                     " planned moves per hour (--max_planned_moves_per_hour) is spent: ", waiting,
                     " primaries wait"));
  };
  if (catalog == nullptr) {
    if (budget_left <= 0) out_of_budget(to_move.size());
    return progress;
  }
  for (size_t i = 0; i < to_move.size(); ++i) {
    const store::ReservationRecord* r = to_move[i];
    if (progress.moves_in_flight >= options_.max_in_flight) break;
    if (budget_left <= 0) {
      if (moves_ != nullptr) moves_->Add({{"result", "budget"}}).Increment();
      out_of_budget(to_move.size() - i);
      break;
    }
    absl::StatusOr<std::string> target = TargetFor(*r, *catalog);
    absl::StatusOr<store::MigrationRecord> m = absl::UnknownError("no target");
    if (!target.ok()) {
      m = target.status();
    } else {
      MigrateSpec spec;
      spec.request_id = absl::StrCat("drain-", location.name, "-", r->primary.id);
      spec.reservation_id = r->id;
      spec.target_location = *target;
      spec.reason = absl::StrCat("drain of ", location.name);
      m = migrations_->Migrate(spec);
    }
    if (moves_ != nullptr) {
      moves_->Add({{"result", m.ok() ? "requested" : "refused"}}).Increment();
    }
    if (!m.ok()) {
      progress.blocked.push_back(absl::StrCat("reservation ", r->id, ": ", m.status().message()));
      LOG_EVENT(kWarning, "drain move refused")
          .Field("location", location.name)
          .Field("reservation_id", r->id)
          .Field("error", m.status());
      continue;
    }
    ++progress.moves_in_flight;
    --budget_left;
    LOG_EVENT(kInfo, "drain move requested")
        .Field("location", location.name)
        .Field("reservation_id", r->id)
        .Field("migration_id", m->id)
        .Field("target_location", m->target_location);
  }
  return progress;
}

}  // namespace shadowplane::migration
