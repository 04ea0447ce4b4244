#include "migration/spot_fallback.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "migration/migrator_internal.h"
#include "planner/location_facts.h"
#include "planner/placement_constraint.h"
#include "store/migration_state.h"

namespace shadowplane::migration {
namespace {

constexpr size_t kMaxIds = 1000;
constexpr size_t kMaxReason = 1000;
// Providers warn minutes ahead; a deadline days away is a mistake, not a warning.
constexpr absl::Duration kMaxWarning = absl::Hours(24);

// "on_demand_same_location", "other_location" or "promoted_after_deadline": what a fallback
// migration that switched traffic did.
std::string OutcomeOf(const store::MigrationRecord& m, const std::string& interrupted_location) {
  if (m.kind == "emergency") return "promoted_after_deadline";
  return m.target_location == interrupted_location ? "on_demand_same_location" : "other_location";
}

}  // namespace

SpotFallback::SpotFallback(Sources sources, SpotFallbackOptions options)
    : sources_(std::move(sources)), options_(std::move(options)) {
  if (sources_.metrics == nullptr) return;
  interruptions_ = &prometheus::BuildCounter()
                        .Name("shadowplane_spot_interruptions_total")
                        .Help("Spot interruption warnings received.")
                        .Register(*sources_.metrics)
                        .Add({});
  fallbacks_ = &prometheus::BuildCounter()
                    .Name("shadowplane_spot_fallbacks_total")
                    .Help(
                        "Instances moved off interrupted spot capacity, by outcome "
                        "(on_demand_same_location, other_location, promoted_after_deadline, "
                        "shadow_rebuilt, not_affected).")
                    .Register(*sources_.metrics);
  // A closed set, each series there from the start (a dashboard panel or an alert on it needs no
  // first fallback).
  for (const char* outcome : {"on_demand_same_location", "other_location",
                              "promoted_after_deadline", "shadow_rebuilt", "not_affected"}) {
    fallbacks_->Add({{"outcome", outcome}});
  }
  fallback_seconds_ =
      &prometheus::BuildHistogram()
           .Name("shadowplane_spot_fallback_seconds")
           .Help("From a spot interruption warning to traffic on the new capacity, real seconds.")
           .Register(*sources_.metrics)
           .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 5, 10, 20, 30, 60, 90, 120, 300});
}

absl::StatusOr<store::SpotInterruptionRecord> SpotFallback::Report(
    const InterruptionNotice& notice) {
  if (notice.location.empty() && notice.instance_ids.empty()) {
    return absl::InvalidArgumentError("location or instance_ids is required");
  }
  if (notice.instance_ids.size() > kMaxIds) {
    return absl::InvalidArgumentError(
        absl::StrCat("instance_ids: at most ", kMaxIds, " per interruption"));
  }
  if (notice.reason.size() > kMaxReason) {
    return absl::InvalidArgumentError(absl::StrCat("reason is over ", kMaxReason, " bytes"));
  }
  if (notice.deadline.has_value() &&
      *notice.deadline > sources_.deadline_clock->Now() + kMaxWarning) {
    return absl::InvalidArgumentError(
        absl::StrCat("deadline ", absl::FormatTime(*notice.deadline), " is more than ",
                     absl::FormatDuration(kMaxWarning), " away: not a spot interruption warning"));
  }
  std::string location = notice.location;
  if (!location.empty()) RETURN_IF_ERROR(sources_.locations->GetLocation(location).status());
  ASSIGN_OR_RETURN(std::vector<store::SpotInstance> affected,
                   sources_.spot->Affected(location, notice.instance_ids));
  for (const store::SpotInstance& i : affected) {
    if (location.empty()) location = i.location;
    if (i.location != location) {
      return absl::InvalidArgumentError(absl::StrCat("instance_ids: instance ", i.instance_id,
                                                     " runs at ", i.location, ", not at ", location,
                                                     " (one location per report)"));
    }
  }
  const absl::Time real_now = sources_.deadline_clock->Now();
  store::SpotInterruptionRecord record;
  record.location = location;
  record.received_at = sources_.clock->Now();
  record.deadline = notice.deadline.value_or(real_now + options_.default_warning);
  record.reason = notice.reason.empty() ? "spot interruption" : notice.reason;
  for (const store::SpotInstance& i : affected) {
    store::SpotFallbackRecord f;
    f.instance_id = i.instance_id;
    f.resource_id = i.resource_id;
    f.role = i.role == "shadow" ? "shadow" : "primary";
    const bool relevant = (i.role == "primary" || i.role == "shadow") &&
                          i.capacity_type == "spot" && store::IsLiveState(i.state) &&
                          i.reservation_active;
    if (!relevant) {
      f.state = "finished";
      f.outcome = "not_affected";
      f.detail = absl::StrCat("instance is ", i.role, ", ", i.state, " on ", i.capacity_type,
                              i.reservation_active ? "" : " (reservation not active)");
      f.finished_at = record.received_at;
      if (fallbacks_ != nullptr) fallbacks_->Add({{"outcome", "not_affected"}}).Increment();
    }
    record.fallbacks.push_back(std::move(f));
  }
  RETURN_IF_ERROR(RecordSpotGone(location, record.received_at));
  ASSIGN_OR_RETURN(std::string id, sources_.spot->Record(record));
  if (interruptions_ != nullptr) interruptions_->Increment();
  LOG_EVENT(kWarning, "spot interruption")
      .Field("interruption_id", id)
      .Field("location", location)
      .Field("instances", affected.size())
      .Field("deadline", absl::FormatTime(record.deadline))
      .Field("deadline_passed", record.deadline <= real_now);
  if (absl::Status s = ReconcileOnce(); !s.ok()) {
    LOG_EVENT(kWarning, "spot fallbacks not all started yet")
        .Field("interruption_id", id)
        .Field("error", s);
  }
  return sources_.spot->Get(id);
}

absl::Status SpotFallback::RecordSpotGone(const std::string& location, absl::Time at) {
  ASSIGN_OR_RETURN(store::LocationRecord l, sources_.locations->GetLocation(location));
  store::PriceRecord gone;
  gone.location = location;
  gone.observed_at = at;
  gone.on_demand_price_per_vcpu_hour = l.on_demand_price_per_vcpu_hour;
  gone.on_demand_price_per_gib_hour = l.on_demand_price_per_gib_hour;
  ASSIGN_OR_RETURN(store::PriceHistory history, sources_.prices->History(location));
  if (!history.observations.empty()) {
    gone.on_demand_price_per_vcpu_hour = history.observations.back().on_demand_price_per_vcpu_hour;
    gone.on_demand_price_per_gib_hour = history.observations.back().on_demand_price_per_gib_hour;
  }
  gone.spot_availability = 0;
  gone.source = "interruption";
  return sources_.prices->Record({gone}, at);
}

absl::Status SpotFallback::ReconcileOnce() {
  absl::MutexLock lock(&mu_);
  return ReconcileLocked();
}

absl::Status SpotFallback::ReconcileLocked() {
  ASSIGN_OR_RETURN(std::vector<store::SpotFallbackRecord> pending, sources_.spot->Pending());
  absl::Status first;
  for (store::SpotFallbackRecord& f : pending) {
    absl::Status s = Drive(std::move(f));
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

absl::Status SpotFallback::Finish(store::SpotFallbackRecord& f, const std::string& outcome,
                                  const std::string& detail) {
  f.state = "finished";
  f.outcome = outcome;
  f.detail = detail;
  f.finished_at = sources_.clock->Now();
  RETURN_IF_ERROR(sources_.spot->Save(f));
  if (fallbacks_ != nullptr) fallbacks_->Add({{"outcome", outcome}}).Increment();
  LOG_EVENT(kInfo, "spot fallback finished")
      .Field("interruption_id", f.interruption_id)
      .Field("instance_id", f.instance_id)
      .Field("role", f.role)
      .Field("outcome", outcome)
      .Field("migration_id", f.migration_id)
      .Field("detail", detail);
  return absl::OkStatus();
}

absl::Status SpotFallback::Drive(store::SpotFallbackRecord f) {
  absl::StatusOr<store::ReservationRecord> r = sources_.reservations->GetByResource(f.resource_id);
  if (absl::IsNotFound(r.status()) || (r.ok() && r->state != "active")) {
    return Finish(f, "not_affected", "the reservation is no longer active");
  }
  RETURN_IF_ERROR(r.status());
  if (f.role == "primary" && f.migration_id.empty() && r->shadow.id == f.instance_id) {
    // A migration that was past its switch when the warning came made the interrupted primary
    // the shadow: it is rebuilt as one.
    f.role = "shadow";
    RETURN_IF_ERROR(sources_.spot->Save(f));
  }
  if (f.role == "primary") return DrivePrimary(f, *r);
  if (r->shadow.id != f.instance_id) {
    return Finish(f, f.attempts > 0 ? "shadow_rebuilt" : "not_affected",
                  absl::StrCat("the shadow is now ", r->shadow.id, " at ", r->shadow.location));
  }
  ++f.attempts;
  const absl::Status replaced = sources_.replace_shadow(r->id);
  if (!replaced.ok()) {
    f.detail = absl::StrCat("shadow not rebuilt yet: ", replaced.message());
    return sources_.spot->Save(f);
  }
  ASSIGN_OR_RETURN(store::ReservationRecord now, sources_.reservations->Get(r->id));
  return Finish(f, "shadow_rebuilt",
                absl::StrCat("new shadow ", now.shadow.id, " at ", now.shadow.location, " on ",
                             CapacityTypeName(now.shadow.capacity.type)));
}

absl::Status SpotFallback::DrivePrimary(store::SpotFallbackRecord& f,
                                        const store::ReservationRecord& r) {
  const bool expired = sources_.deadline_clock->Now() >= f.deadline;
  if (!f.migration_id.empty()) {
    ASSIGN_OR_RETURN(store::MigrationRecord m, sources_.migrations->Get(f.migration_id));
    const bool switched = m.progress.switched_at.has_value() ||
                          (m.kind == "emergency" && (m.state == store::MigrationState::kObserving ||
                                                     m.state == store::MigrationState::kDone));
    if (switched && !f.traffic_at.has_value()) {
      f.traffic_at = m.progress.switched_at.value_or(sources_.clock->Now());
      if (fallback_seconds_ != nullptr) {
        fallback_seconds_->Observe(absl::ToDoubleSeconds(*f.traffic_at - f.received_at) /
                                   options_.clock_scale);
      }
      RETURN_IF_ERROR(sources_.spot->Save(f));
    }
    if (switched) {
      return Finish(f, OutcomeOf(m, f.location),
                    absl::StrCat("migration ", m.id, " to ", m.target_location, " on ",
                                 m.target_capacity_type, " switched traffic"));
    }
    if (store::IsFinal(m.state)) {
      // Rolled back or failed before its switch: the primary is still on the interrupted spot.
      f.detail =
          absl::StrCat("migration ", m.id, " ended ", store::StateName(m.state), ": ", m.error);
      f.migration_id.clear();
      RETURN_IF_ERROR(sources_.spot->Save(f));
      return StartPrimaryFallback(f, r, expired || f.attempts >= options_.max_attempts);
    }
    if (expired && m.kind != "emergency" && !m.cancel_requested) {
      // The capacity is gone before traffic moved: stop the move; the shadow is promoted next.
      absl::Status cancelled = sources_.manager->Cancel(m.id).status();
      f.detail = absl::StrCat("the deadline passed before migration ", m.id,
                              " switched traffic: cancelled",
                              cancelled.ok() ? "" : absl::StrCat(" (", cancelled.message(), ")"));
      RETURN_IF_ERROR(sources_.spot->Save(f));
    }
    return absl::OkStatus();
  }
  // No fallback of ours yet. Another migration of the resource goes first: cancelled while it is
  // before its traffic switch, waited for after it.
  store::MigrationFilter filter;
  filter.resource_id = r.resource_id;
  ASSIGN_OR_RETURN(std::vector<store::MigrationRecord> all, sources_.migrations->List(filter));
  for (const store::MigrationRecord& m : all) {
    if (store::IsFinal(m.state) || m.state == store::MigrationState::kObserving) continue;
    if (store::CanRollBack(m.state) && !m.progress.switched_at.has_value() && !m.cancel_requested) {
      absl::Status cancelled = sources_.manager->Cancel(m.id).status();
      f.detail = absl::StrCat("migration ", m.id, " was under way before its traffic switch: ",
                              cancelled.ok() ? "cancelled, the fallback follows its roll-back"
                                             : std::string(cancelled.message()));
      LOG_EVENT(kInfo, "spot fallback waits for a migration to roll back")
          .Field("migration_id", m.id)
          .Field("instance_id", f.instance_id);
    } else {
      f.detail = absl::StrCat("migration ", m.id, " is past its traffic switch: it finishes first");
    }
    return sources_.spot->Save(f);
  }
  if (r.primary.id != f.instance_id || r.primary.capacity.type != CapacityType::kSpot ||
      r.primary.location != f.location) {
    return Finish(f, "not_affected",
                  absl::StrCat("the primary is now ", r.primary.id, " at ", r.primary.location,
                               " on ", CapacityTypeName(r.primary.capacity.type)));
  }
  return StartPrimaryFallback(f, r, expired || f.attempts >= options_.max_attempts);
}

absl::Status SpotFallback::StartPrimaryFallback(store::SpotFallbackRecord& f,
                                                const store::ReservationRecord& r, bool expired) {
  MigrateSpec spec;
  spec.reservation_id = r.id;
  ++f.attempts;
  if (expired) {
    // The shadow is promoted on the capacity it runs on (elsewhere: not the interrupted spot).
    spec.request_id = absl::StrCat("spot-", f.interruption_id, "-", f.instance_id, "-lost");
    spec.kind = "emergency";
    spec.force = true;  // the instance is gone with its capacity, whatever its lease says
    spec.reason =
        "spot interruption: the deadline passed before traffic moved; promoting the "
        "shadow with the data it has";
  } else {
    ASSIGN_OR_RETURN(store::LocationCatalog catalog, sources_.locations->LoadAll());
    const planner::CatalogFacts facts = planner::FactsOf(catalog);
    const Capacity full{r.capacity.millicores, r.capacity.memory_mib, CapacityType::kOnDemand};
    auto usable_with_room = [&](const std::string& name, const Capacity& needed) {
      const auto l = facts.locations.find(name);
      return l != facts.locations.end() && !l->second.cordoned && !l->second.lost &&
             planner::HasRoom(l->second, needed);
    };
    std::string why;
    if (usable_with_room(f.location, full)) {
      spec.target_location = f.location;
      why = "on-demand at the same location";
    } else {
      Capacity needed = full;
      if (r.shadow.capacity.type == CapacityType::kOnDemand) {
        needed.millicores -= r.shadow.capacity.millicores;
        needed.memory_mib -= r.shadow.capacity.memory_mib;
      }
      if (!r.shadow.id.empty() && r.shadow.location != f.location && store::IsLive(r.shadow) &&
          usable_with_room(r.shadow.location, needed)) {
        spec.target_location = r.shadow.location;
        why = absl::StrCat("no on-demand room at ", f.location,
                           ": to the shadow's location, which holds the data");
      } else {
        planner::PlacementConstraint constraint;
        planner::PlacementFromJson(r.placement_json, &constraint);
        absl::StatusOr<std::vector<std::string>> allowed = planner::AllowedLocations(
            constraint.locations, constraint.regions, facts.locations, facts.regions);
        double best = 0;
        if (allowed.ok()) {
          for (const std::string& name : *allowed) {
            if (name == f.location || !usable_with_room(name, full)) continue;
            absl::StatusOr<planner::LocationCost> cost = planner::CostAt(
                facts.locations.at(name), full, {}, facts.regions, options_.rtt, options_.cost);
            if (cost.ok() && (spec.target_location.empty() || cost->total() < best)) {
              spec.target_location = name;
              best = cost->total();
            }
          }
        }
        why = absl::StrCat("no on-demand room at ", f.location,
                           " or the shadow's location: to the cheapest allowed location with room");
      }
    }
    if (spec.target_location.empty()) {
      f.detail =
          "no location has on-demand room for the primary: the shadow is promoted at the "
          "deadline";
      --f.attempts;
      return sources_.spot->Save(f);
    }
    spec.request_id = absl::StrCat("spot-", f.interruption_id, "-", f.instance_id, "-", f.attempts);
    spec.capacity_type = "on_demand";
    spec.urgent = true;
    spec.reason = absl::StrCat("spot interruption at ", f.location, ": fallback, ", why);
  }
  absl::StatusOr<store::MigrationRecord> m = sources_.manager->Migrate(spec);
  if (!m.ok()) {
    const std::string why = absl::StrCat("fallback not started: ", m.status().message());
    // Past the deadline and out of attempts (no shadow to promote, say): nothing more to do here;
    // the reservation's own reconcile and an operator take it from there.
    if (expired && f.attempts > options_.max_attempts && !absl::IsUnavailable(m.status())) {
      return Finish(f, "failed", why);
    }
    f.detail = why;
    RETURN_IF_ERROR(sources_.spot->Save(f));
    return m.status();
  }
  f.migration_id = m->id;
  f.detail = spec.reason;
  RETURN_IF_ERROR(sources_.spot->Save(f));
  // Not linked through migrations.decision_id: that marks a move the planner chose, observed and
  // judged as one (calibration); the decision names its migration instead.
  RecordDecision(r, m->target_location, m->target_capacity_type,
                 absl::StrCat(spec.reason, " (migration ", m->id, ")"));
  LOG_EVENT(kWarning, "spot fallback started")
      .Field("interruption_id", f.interruption_id)
      .Field("instance_id", f.instance_id)
      .Field("migration_id", m->id)
      .Field("kind", m->kind)
      .Field("to", m->target_location)
      .Field("reason", spec.reason);
  return absl::OkStatus();
}

void SpotFallback::RecordDecision(const store::ReservationRecord& r, const std::string& to_location,
                                  const std::string& to_type, const std::string& reason) {
  if (sources_.decisions == nullptr) return;
  store::DecisionRecord d;
  d.resource_id = r.resource_id;
  d.reservation_id = r.id;
  d.decided_at = sources_.clock->Now();
  d.outcome = "fallback";
  d.from_location = r.primary.location;
  d.to_location = to_location;
  d.to_capacity_type = to_type;
  d.confidence = 1;
  d.mode = "auto";
  d.threshold = 0;
  d.reason = reason;
  d.explanation_json = Json({{"resourceId", Quote(r.resource_id)},
                             {"outcome", Quote("fallback")},
                             {"fromLocation", Quote(r.primary.location)},
                             {"toLocation", Quote(to_location)},
                             {"fromCapacityType", Quote("spot")},
                             {"toCapacityType", Quote(to_type)},
                             {"reason", Quote(reason)}});
  d.reservation_updated_at = r.updated_at;
  if (absl::StatusOr<std::string> id = sources_.decisions->Insert(d); !id.ok()) {
    LOG_EVENT(kWarning, "recording a fallback decision failed")
        .Field("resource_id", r.resource_id)
        .Field("error", id.status());
  }
}

}  // namespace shadowplane::migration
