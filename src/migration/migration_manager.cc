#include "migration/migration_manager.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "planner/location_facts.h"
#include "planner/spot_prices.h"
#include "store/migration_state.h"

namespace shadowplane::migration {

namespace {

constexpr size_t kMaxRequestId = 128;
constexpr size_t kMaxReason = 1000;

}  // namespace

MigrationManager::MigrationManager(store::MigrationRepository* migrations,
                                   store::ReservationRepository* reservations,
                                   store::LocationRepository* locations,
                                   store::WriteLeaseRepository* leases,
                                   store::DisruptionRepository* disruptions, const Clock* clock,
                                   std::function<void()> wake)
    : migrations_(migrations),
      leases_(leases),
      reservations_(reservations),
      locations_(locations),
      disruptions_(disruptions),
      clock_(clock),
      wake_(std::move(wake)) {}

absl::Status MigrationManager::CheckRoom(const store::LocationRecord& location,
                                         const Capacity& needed) {
  if (needed.type == CapacityType::kSpot) {
    // Spot as offered now: the catalog's prices with the latest reports laid over them.
    ASSIGN_OR_RETURN(store::LocationCatalog catalog, locations_->LoadAll());
    const planner::CatalogFacts facts = planner::FactsOf(catalog);
    const auto found = facts.locations.find(location.name);
    if (found == facts.locations.end() || !planner::SpotOffered(found->second)) {
      return absl::FailedPreconditionError(
          absl::StrCat("location ", location.name, " offers no spot capacity"));
    }
  }
  const int64_t free_millicores = location.capacity_millicores - location.used_millicores;
  const int64_t free_memory = location.capacity_memory_mib - location.used_memory_mib;
  if (needed.millicores > free_millicores || needed.memory_mib > free_memory) {
    return absl::FailedPreconditionError(
        absl::StrCat("location ", location.name, " is out of capacity: ", free_millicores,
                     " millicores and ", free_memory, " MiB free, the move needs ",
                     needed.millicores, " millicores and ", needed.memory_mib, " MiB"));
  }
  return absl::OkStatus();
}

absl::StatusOr<store::MigrationRecord> MigrationManager::Migrate(const MigrateSpec& spec) {
  if (spec.request_id.empty() || spec.request_id.size() > kMaxRequestId) {
    return absl::InvalidArgumentError(
        absl::StrCat("request_id must be 1 to ", kMaxRequestId, " bytes"));
  }
  if (spec.reservation_id.empty()) {
    return absl::InvalidArgumentError("reservation_id is required");
  }
  if (spec.reason.size() > kMaxReason) {
    return absl::InvalidArgumentError(absl::StrCat("reason is over ", kMaxReason, " bytes"));
  }
  const std::string kind = spec.kind.empty() ? "planned" : spec.kind;
  if (kind != "planned" && kind != "emergency") {
    return absl::InvalidArgumentError(
        absl::StrCat("kind must be planned or emergency, got \"", spec.kind, "\""));
  }
  CapacityType type = CapacityType::kOnDemand;
  if (!spec.capacity_type.empty() && !ParseCapacityType(spec.capacity_type, &type)) {
    return absl::InvalidArgumentError(
        absl::StrCat("capacity_type must be spot or on_demand, got \"", spec.capacity_type, "\""));
  }
  // A retry answers as the first call did, whatever has happened since.
  ASSIGN_OR_RETURN(std::optional<store::MigrationRecord> existing,
                   migrations_->FindByRequestId(spec.request_id));
  if (existing.has_value()) return *existing;
  ASSIGN_OR_RETURN(store::ReservationRecord r, reservations_->Get(spec.reservation_id));
  if (r.state != "active") {
    return absl::FailedPreconditionError(
        absl::StrCat("reservation ", r.id, " is ", r.state, ", not active"));
  }
  if (spec.capacity_type.empty()) type = r.capacity.type;
  std::string target_location = spec.target_location;
  if (kind == "emergency") {
    if (r.shadow.id.empty() || r.shadow.state != "running") {
      return absl::FailedPreconditionError(
          absl::StrCat("reservation ", r.id, " has no running shadow to promote"));
    }
    if (target_location.empty()) target_location = r.shadow.location;
    if (target_location != r.shadow.location) {
      return absl::InvalidArgumentError(absl::StrCat(
          "target_location: an emergency promotion moves the primary to its shadow at ",
          r.shadow.location, ", not to ", target_location));
    }
    if (spec.capacity_type.empty()) type = r.shadow.capacity.type;
    if (!spec.force && !r.primary.id.empty()) {
      // Promoting the shadow of a primary that takes writes loses what it took since the
      // shadow's last round: that is a planned migration's job.
      ASSIGN_OR_RETURN(store::InstanceLease lease, leases_->Lease(r.primary.id));
      if (lease.held()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "primary ", r.primary.id, " at ", r.primary.location,
            " is healthy (it holds its write lease for another ",
            absl::FormatDuration(
                absl::Trunc(*lease.expires_at - lease.database_now, absl::Milliseconds(1))),
            "): an emergency promotion would lose the writes since the shadow's last round; "
            "migrate it planned, or set force"));
      }
    }
  } else if (target_location.empty()) {
    return absl::InvalidArgumentError("target_location is required");
  }
  ASSIGN_OR_RETURN(store::LocationRecord location, locations_->GetLocation(target_location));
  if (kind == "planned" && target_location == r.primary.location &&
      type == r.primary.capacity.type) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target_location: the primary already runs at ", target_location, " on ",
        CapacityTypeName(type), " capacity; choose another location or capacity type"));
  }
  // What the target location must still hold: the primary's capacity, less what the shadow has
  // there already when the shadow becomes the target.
  Capacity needed{r.capacity.millicores, r.capacity.memory_mib, type};
  if (r.shadow.location == target_location && r.shadow.capacity.type == type &&
      store::IsLive(r.shadow)) {
    needed.millicores -= r.shadow.capacity.millicores;
    needed.memory_mib -= r.shadow.capacity.memory_mib;
  }
  if (kind == "planned") RETURN_IF_ERROR(CheckRoom(location, needed));

  store::MigrationRecord draft;
  draft.request_id = spec.request_id;
  draft.resource_id = r.resource_id;
  draft.reason = spec.reason.empty() ? "manual" : spec.reason;
  draft.kind = kind;
  draft.source_instance_id = r.primary.id;
  draft.target_location = target_location;
  draft.target_capacity_type = CapacityTypeName(type);
  draft.decision_id = spec.decision_id;
  draft.urgent = spec.urgent;
  draft.predicted_saving = spec.predicted_saving;
  draft.predicted_confidence = spec.predicted_confidence;
  if (kind == "planned") draft.cutover_after = spec.cutover_after;
  bool created = false;
  ASSIGN_OR_RETURN(store::MigrationRecord m, migrations_->Create(draft, clock_->Now(), &created));
  if (created) {
    LOG_EVENT(kInfo, "migration requested")
        .Field("migration_id", m.id)
        .Field("reservation_id", r.id)
        .Field("kind", kind)
        .Field("from", r.primary.location)
        .Field("to", target_location)
        .Field("reason", draft.reason);
    if (wake_) wake_();
  }
  return m;
}

absl::StatusOr<MigrationDetails> MigrationManager::Get(const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("id is required");
  MigrationDetails d;
  ASSIGN_OR_RETURN(d.migration, migrations_->Get(id));
  ASSIGN_OR_RETURN(d.events, migrations_->Events(id));
  ASSIGN_OR_RETURN(d.rounds, migrations_->Rounds(id));
  if (disruptions_ != nullptr) {
    ASSIGN_OR_RETURN(d.disruptions, disruptions_->Get(id));
  }
  d.reservation_id = ReservationOf(d.migration.resource_id);
  return d;
}

absl::StatusOr<std::vector<store::MigrationRecord>> MigrationManager::List(
    const store::MigrationFilter& filter) {
  if (!filter.state.empty() && !store::ParseState(filter.state).has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("state \"", filter.state, "\" is not a migration state"));
  }
  return migrations_->List(filter);
}

absl::StatusOr<store::MigrationRecord> MigrationManager::Cancel(const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("id is required");
  ASSIGN_OR_RETURN(store::MigrationRecord m, migrations_->Get(id));
  if (store::IsFinal(m.state)) {
    return absl::FailedPreconditionError(
        absl::StrCat("migration ", id, " is already finished (", store::StateName(m.state), ")"));
  }
  if (!store::CanRollBack(m.state) || m.progress.switched_at.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("migration ", id, " is past its traffic switch (", store::StateName(m.state),
                     "): the new primary serves; migrate back instead"));
  }
  RETURN_IF_ERROR(migrations_->RequestCancel(id));
  LOG_EVENT(kInfo, "migration cancellation requested").Field("migration_id", id);
  if (wake_) wake_();
  return migrations_->Get(id);
}

std::string MigrationManager::ReservationOf(const std::string& resource_id) {
  auto r = reservations_->GetByResource(resource_id);
  return r.ok() ? r->id : "";
}

}  // namespace shadowplane::migration
