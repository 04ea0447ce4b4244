#include "reservation/reservation_manager.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/log.h"
#include "common/retriable.h"
#include "common/status_macros.h"
#include "planner/location_facts.h"
#include "planner/placement_constraint.h"
#include "planner/planner_overrides_codec.h"
#include "yaml-cpp/yaml.h"

namespace shadowplane::reservation {
namespace {

absl::Status ValidateFraction(double f) {
  if (!std::isfinite(f) || f <= 0 || f > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("shadow_capacity_fraction must be in (0, 1], got ", f));
  }
  return absl::OkStatus();
}

absl::Status ValidateInterval(double s) {
  if (!std::isfinite(s) || s <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("shadow_sync_interval_seconds must be positive, got ", s));
  }
  return absl::OkStatus();
}

// A name is for people (and the default service name's "{name}"); a seed directory is a path.
constexpr size_t kMaxNameBytes = 200;
constexpr size_t kMaxSeedDirBytes = 4096;

absl::Status ValidateSpec(const ReserveSpec& spec) {
  if (spec.request_id.empty() || spec.request_id.size() > 200) {
    return absl::InvalidArgumentError("request_id is required (1 to 200 characters)");
  }
  if (spec.name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(absl::StrCat("name is over ", kMaxNameBytes, " bytes"));
  }
  if (spec.seed_dir.size() > kMaxSeedDirBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("seed_dir is over ", kMaxSeedDirBytes, " bytes (PATH_MAX)"));
  }
  RETURN_IF_ERROR(
      ValidateCapacityValue(spec.capacity.millicores, kMaxMillicores, false, "millicores"));
  RETURN_IF_ERROR(
      ValidateCapacityValue(spec.capacity.memory_mib, kMaxMemoryMib, false, "memory_mib"));
  if (spec.data_size_bytes < 0) {
    return absl::InvalidArgumentError("data_size_bytes must not be negative");
  }
  if (spec.shadow_capacity_fraction)
    RETURN_IF_ERROR(ValidateFraction(*spec.shadow_capacity_fraction));
  if (spec.shadow_sync_interval_seconds) {
    RETURN_IF_ERROR(ValidateInterval(*spec.shadow_sync_interval_seconds));
  }
  for (const auto& c : spec.client_regions) {
    if (!std::isfinite(c.weight) || c.weight <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "placement.client_regions weight of '", c.region, "' must be positive, got ", c.weight));
    }
  }
  return absl::OkStatus();
}

}  // namespace

ReservationManager::ReservationManager(store::ReservationRepository* reservations,
                                       store::LocationRepository* locations,
                                       providers::ComputeProvider* compute,
                                       fencing::WriteAuthority* writes, const Clock* clock,
                                       ReservationOptions options, prometheus::Registry* registry,
                                       providers::TrafficProvider* traffic)
    : reservations_(reservations),
      locations_(locations),
      compute_(compute),
      writes_(writes),
      traffic_(traffic),
      clock_(clock),
      options_(std::move(options)) {
  if (registry == nullptr) return;
  reservation_gauges_ = &prometheus::BuildGauge()
                             .Name("shadowplane_reservations")
                             .Help("Reservations by state")
                             .Register(*registry);
  instance_gauges_ = &prometheus::BuildGauge()
                          .Name("shadowplane_instances")
                          .Help("Instances by location and state")
                          .Register(*registry);
  shadows_replaced_ = &prometheus::BuildCounter()
                           .Name("shadowplane_shadows_replaced_total")
                           .Help(
                               "Shadows rebuilt elsewhere because their location was lost or "
                               "draining, by reason (location_lost, draining) and result "
                               "(replaced; blocked: no location qualified or a migration was "
                               "under way).")
                           .Register(*registry);
}

providers::InstanceSpec ReservationManager::SpecOf(const store::ReservationRecord& r,
                                                   const store::InstanceRecord& instance) {
  providers::InstanceSpec spec;
  spec.instance_id = instance.id;
  spec.resource_id = r.resource_id;
  spec.location = instance.location;
  spec.capacity = instance.capacity;
  spec.read_only = instance.read_only;
  spec.seed_dir = r.seed_dir;
  spec.forward_secret = r.forward_secret;
  return spec;
}

std::optional<TeamQuota> ReservationManager::QuotaOf(const std::string& team) const {
  if (team.empty() || !options_.team_quota) return std::nullopt;
  return options_.team_quota(team);
}

absl::StatusOr<std::map<std::string, planner::LocationFacts>> ReservationManager::LoadLocations(
    std::map<std::string, planner::RegionFacts>* regions) {
  ASSIGN_OR_RETURN(store::LocationCatalog catalog, locations_->LoadAll());
  planner::CatalogFacts facts = planner::FactsOf(catalog);
  *regions = std::move(facts.regions);
  return std::move(facts.locations);
}

absl::StatusOr<store::ReservationRecord> ReservationManager::Reserve(const ReserveSpec& spec) {
  RETURN_IF_ERROR(ValidateSpec(spec));
  ASSIGN_OR_RETURN(auto existing, reservations_->FindByRequestId(spec.request_id));
  if (existing.has_value()) return *existing;  // a retry

  std::map<std::string, planner::RegionFacts> regions;
  ASSIGN_OR_RETURN(auto locations, LoadLocations(&regions));
  planner::PlacementRequest request;
  request.capacity = spec.capacity;
  request.shadow_capacity_fraction =
      spec.shadow_capacity_fraction.value_or(options_.default_shadow_capacity_fraction);
  request.locations = spec.locations;
  request.regions = spec.regions;
  request.client_regions = spec.client_regions;
  request.now = clock_->Now();
  ASSIGN_OR_RETURN(planner::Placement placement,
                   planner::Place(request, locations, regions, options_.rtt, options_.cost));
  if (!spec.planner.empty()) {
    ASSIGN_OR_RETURN(const std::vector<std::string> allowed,
                     planner::AllowedLocations(spec.locations, spec.regions, locations, regions));
    RETURN_IF_ERROR(spec.planner.Validate("planner.", allowed));
  }

  store::ReservationRecord draft;
  draft.request_id = spec.request_id;
  draft.name = spec.name.empty() ? spec.request_id : spec.name;
  draft.capacity = placement.primary_capacity;
  draft.data_size_bytes = spec.data_size_bytes;
  draft.seed_dir = spec.seed_dir;
  draft.shadow_capacity_fraction = request.shadow_capacity_fraction;
  draft.shadow_sync_interval_seconds =
      spec.shadow_sync_interval_seconds.value_or(options_.default_shadow_sync_interval_seconds);
  draft.placement_json =
      planner::PlacementToJson({spec.locations, spec.regions, spec.client_regions});
  draft.explanation = placement.explanation;
  draft.planner_overrides_json = planner::OverridesToJson(spec.planner);
  draft.owner_team = spec.owner_team;
  if (traffic_ != nullptr) {
    draft.traffic_provider = traffic_->name();
    draft.service_name =
        spec.service_name.empty()
            ? absl::StrReplaceAll(options_.service_name_template, {{"{name}", draft.name}})
            : spec.service_name;
  }
  draft.primary = {"",
                   "primary",
                   placement.primary_location,
                   "",
                   placement.primary_capacity,
                   /*read_only=*/false,
                   "creating",
                   ""};
  draft.shadow = {"",
                  "shadow",
                  placement.shadow_location,
                  "",
                  placement.shadow_capacity,
                  /*read_only=*/true,
                  "creating",
                  ""};
  auto created = reservations_->CreatePending(draft, clock_->Now(), QuotaOf(draft.owner_team));
  if (absl::IsAlreadyExists(created.status())) {
    // Another call with the same request id won the race: theirs is the reservation.
    ASSIGN_OR_RETURN(auto winner, reservations_->FindByRequestId(spec.request_id));
    if (winner.has_value()) return *winner;
  }
  if (!created.ok()) return created.status();
  LOG_EVENT(kInfo, "reservation placed")
      .Field("reservation_id", created->id)
      .Field("primary", placement.primary_location)
      .Field("shadow", placement.shadow_location);
  return Complete(*std::move(created));
}

absl::StatusOr<store::ReservationRecord> ReservationManager::Complete(store::ReservationRecord r) {
  auto claim = Claim(r.id);
  if (!claim.has_value()) return r;  // another call is at it
  absl::Status failure;
  for (store::InstanceRecord* instance : {&r.primary, &r.shadow}) {
    if (instance->state == "running") continue;
    providers::InstanceSpec spec = SpecOf(r, *instance);
    if (!spec.read_only) {
      ASSIGN_OR_RETURN(spec.grant, writes_->Prepare(instance->id, false));
    }
    auto info = compute_->CreateInstance(spec);
    if (info.ok() && !spec.read_only) RETURN_IF_ERROR(writes_->Handed(instance->id, spec.grant));
    if (info.ok()) {
      RETURN_IF_ERROR(
          reservations_->SetInstance(instance->id, "running", info->endpoint, clock_->Now()));
      instance->state = "running";
      instance->endpoint = info->endpoint;
      continue;
    }
    if (IsRetriable(info.status())) {
      LOG_EVENT(kWarning, "reservation pending: location unreachable")
          .Field("reservation_id", r.id)
          .Field("location", instance->location)
          .Field("error", info.status());
      return reservations_->Get(r.id);
    }
    failure = info.status();
    break;
  }
  if (failure.ok() && traffic_ != nullptr && !r.traffic_provider.empty()) {
    // Clients are steered to the primary only once it runs.
    absl::Status steered = Steer(r);
    if (IsRetriable(steered)) {
      LOG_EVENT(kWarning, "reservation pending: traffic provider unreachable")
          .Field("reservation_id", r.id)
          .Field("service_name", r.service_name)
          .Field("error", steered);
      return reservations_->Get(r.id);
    }
    failure = steered;
  }
  if (failure.ok()) {
    // Only from pending: a Release that came meanwhile wins, and finishes what was created.
    absl::Status activated = reservations_->SetState(r.id, "active", "", clock_->Now(), "pending");
    if (absl::IsAborted(activated)) return reservations_->Get(r.id);
    RETURN_IF_ERROR(activated);
    LOG_EVENT(kInfo, "reservation active").Field("reservation_id", r.id);
    return reservations_->Get(r.id);
  }
  // A permanent error: undo what was created and record why. Instances that cannot be reached now
  // are stopped later by the orphan reaper (their resource is marked deleted).
  for (const store::InstanceRecord* instance : {&r.primary, &r.shadow}) {
    auto undone =
        compute_->DeactivateInstance(instance->location, instance->id, /*delete_data=*/true);
    if (!undone.ok() && !absl::IsNotFound(undone.status())) {
      LOG_EVENT(kWarning, "rollback left an instance to the reaper")
          .Field("instance_id", instance->id)
          .Field("error", undone.status());
    }
  }
  absl::Status failed = reservations_->SetState(r.id, "failed", std::string(failure.message()),
                                                clock_->Now(), "pending");
  if (!failed.ok() && !absl::IsAborted(failed)) return failed;
  LOG_EVENT(kWarning, "reservation rolled back")
      .Field("reservation_id", r.id)
      .Field("error", failure);
  return failure;
}

absl::Status ReservationManager::Steer(const store::ReservationRecord& r) {
  ASSIGN_OR_RETURN(const providers::Endpoint primary,
                   providers::ParseEndpoint(r.primary.endpoint, "primary endpoint"));
  RETURN_IF_ERROR(traffic_->Register(r.service_name, primary));
  LOG_EVENT(kInfo, "reservation steered")
      .Field("reservation_id", r.id)
      .Field("provider", r.traffic_provider)
      .Field("service_name", r.service_name)
      .Field("primary", r.primary.endpoint);
  return absl::OkStatus();
}

absl::StatusOr<store::ReservationRecord> ReservationManager::Get(const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("id is required");
  return reservations_->Get(id);
}

absl::StatusOr<std::vector<store::ReservationRecord>> ReservationManager::List(
    const store::ReservationFilter& filter) {
  static const std::set<std::string> kStates = {"",          "pending",  "active",
                                                "releasing", "released", "failed"};
  if (kStates.count(filter.state) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("state must be one of pending, active, releasing, released, failed; got '",
                     filter.state, "'"));
  }
  return reservations_->List(filter);
}

absl::StatusOr<store::ReservationRecord> ReservationManager::Update(
    const std::string& id, const ReservationUpdate& update) {
  if (update.shadow_capacity_fraction)
    RETURN_IF_ERROR(ValidateFraction(*update.shadow_capacity_fraction));
  if (update.shadow_sync_interval_seconds) {
    RETURN_IF_ERROR(ValidateInterval(*update.shadow_sync_interval_seconds));
  }
  if (update.millicores) {
    RETURN_IF_ERROR(ValidateCapacityValue(*update.millicores, kMaxMillicores, false, "millicores"));
  }
  if (update.memory_mib) {
    RETURN_IF_ERROR(ValidateCapacityValue(*update.memory_mib, kMaxMemoryMib, false, "memory_mib"));
  }
  ASSIGN_OR_RETURN(store::ReservationRecord r, Get(id));
  if (r.state != "active") {
    return absl::FailedPreconditionError(
        absl::StrCat("reservation ", id, " is ", r.state, "; only active ones can be updated"));
  }
  store::ReservationRecord next = r;
  if (update.shadow_sync_interval_seconds) {
    next.shadow_sync_interval_seconds = *update.shadow_sync_interval_seconds;
  }
  if (update.shadow_capacity_fraction)
    next.shadow_capacity_fraction = *update.shadow_capacity_fraction;
  if (update.millicores) next.capacity.millicores = *update.millicores;
  if (update.memory_mib) next.capacity.memory_mib = *update.memory_mib;
  if (update.reset_planner || !update.planner.empty()) {
    planner::PlannerOverrides stored;
    if (!update.reset_planner && !planner::OverridesFromJson(r.planner_overrides_json, &stored)) {
      stored = planner::PlannerOverrides();  // unreadable: replaced whole
    }
    const planner::PlannerOverrides merged = stored.MergedWith(update.planner);
    std::map<std::string, planner::RegionFacts> regions;
    ASSIGN_OR_RETURN(auto locations, LoadLocations(&regions));
    planner::PlacementConstraint constraint;
    planner::PlacementFromJson(r.placement_json, &constraint);
    absl::StatusOr<std::vector<std::string>> allowed =
        planner::AllowedLocations(constraint.locations, constraint.regions, locations, regions);
    RETURN_IF_ERROR(
        merged.Validate("planner.", allowed.ok() ? *allowed : std::vector<std::string>{}));
    next.planner_overrides_json = planner::OverridesToJson(merged);
  }
  // Scale first, record after: the record never claims capacity the instances do not have. A
  // reservation that grows takes the room in its team's quota first, and gives it back when
  // its primary cannot grow.
  if (!(next.capacity == r.capacity)) {
    const bool grows = next.capacity.millicores > r.capacity.millicores ||
                       next.capacity.memory_mib > r.capacity.memory_mib;
    if (grows) {
      RETURN_IF_ERROR(
          reservations_->ClaimCapacity(id, next.capacity, QuotaOf(r.owner_team), clock_->Now()));
    }
    absl::Status scaled =
        compute_->ScaleInstance(r.primary.location, r.primary.id, next.capacity).status();
    if (!scaled.ok() && grows) {
      if (absl::Status back = reservations_->ClaimCapacity(id, r.capacity, {}, clock_->Now());
          !back.ok()) {
        // Counted against the quota until the next update: too much, never too little.
        LOG_EVENT(kWarning, "capacity claim not given back")
            .Field("reservation_id", id)
            .Field("error", back);
      }
    }
    RETURN_IF_ERROR(scaled);
    RETURN_IF_ERROR(reservations_->SetInstanceCapacity(r.primary.id, next.capacity, clock_->Now()));
  }
  const Capacity shadow = planner::ShadowCapacity(next.capacity, next.shadow_capacity_fraction);
  if (!(shadow == r.shadow.capacity)) {
    RETURN_IF_ERROR(compute_->ScaleInstance(r.shadow.location, r.shadow.id, shadow).status());
    RETURN_IF_ERROR(reservations_->SetInstanceCapacity(r.shadow.id, shadow, clock_->Now()));
  }
  RETURN_IF_ERROR(reservations_->UpdateSettings(next, clock_->Now()));
  return Get(id);
}

absl::StatusOr<store::ReservationRecord> ReservationManager::Release(const std::string& id) {
  ASSIGN_OR_RETURN(store::ReservationRecord r, Get(id));
  if (r.state == "released" || r.state == "failed") return r;  // idempotent
  if (r.state != "releasing") {
    RETURN_IF_ERROR(reservations_->SetState(id, "releasing", "", clock_->Now()));
  }
  // The intent is recorded. Claims are mostly short (a reconcile pass checking the instances):
  // wait a little. If it is still held (a completion, another release), the reconcile loop, which
  // sees `releasing`, finishes the release.
  auto claim = Claim(id, absl::Seconds(2));
  if (!claim.has_value()) return reservations_->Get(id);
  ASSIGN_OR_RETURN(r, reservations_->Get(id));
  if (traffic_ != nullptr && !r.traffic_provider.empty() && !r.primary.endpoint.empty()) {
    // Clients stop being steered here first; a name that now points elsewhere is someone else's.
    absl::StatusOr<providers::Endpoint> primary =
        providers::ParseEndpoint(r.primary.endpoint, "primary endpoint");
    absl::Status removed =
        primary.ok() ? traffic_->Unregister(r.service_name, *primary) : primary.status();
    if (IsRetriable(removed)) {
      LOG_EVENT(kWarning, "release waits for the traffic provider")
          .Field("reservation_id", id)
          .Field("error", removed);
      return Get(id);  // still releasing; the reconcile loop finishes it
    }
    if (!removed.ok()) {
      LOG_EVENT(kWarning, "release left the service name alone")
          .Field("reservation_id", id)
          .Field("service_name", r.service_name)
          .Field("error", removed);
    }
  }
  for (const store::InstanceRecord* instance : {&r.primary, &r.shadow}) {
    if (instance->id.empty() || instance->state == "stopped") continue;
    auto stopped =
        compute_->DeactivateInstance(instance->location, instance->id, /*delete_data=*/true);
    if (!stopped.ok() && !absl::IsNotFound(stopped.status())) {
      if (IsRetriable(stopped.status())) {
        LOG_EVENT(kWarning, "release waits for an unreachable location")
            .Field("reservation_id", id)
            .Field("location", instance->location);
        return Get(id);  // still releasing; the reconcile loop finishes it
      }
      return stopped.status();
    }
    RETURN_IF_ERROR(
        reservations_->SetInstance(instance->id, "stopped", instance->endpoint, clock_->Now()));
  }
  RETURN_IF_ERROR(reservations_->SetState(id, "released", "", clock_->Now()));
  LOG_EVENT(kInfo, "reservation released").Field("reservation_id", id);
  return Get(id);
}

absl::Status ReservationManager::ReconcileOnce() {
  ASSIGN_OR_RETURN(auto pending, reservations_->IdsInState("pending", 100));
  for (const std::string& id : pending) {
    auto r = reservations_->Get(id);
    if (!r.ok()) continue;
    auto done = Complete(*r);
    if (!done.ok()) LOG_EVENT(kWarning, "pending reservation failed").Field("error", done.status());
  }
  ASSIGN_OR_RETURN(auto releasing, reservations_->IdsInState("releasing", 100));
  for (const std::string& id : releasing) {
    auto done = Release(id);
    if (!done.ok()) LOG_EVENT(kWarning, "release did not finish").Field("error", done.status());
  }
  // Active reservations, a page per pass, round robin: their instances should be running.
  store::ReservationFilter active;
  active.state = "active";
  active.page_size = 100;
  active.after = active_cursor_;
  ASSIGN_OR_RETURN(auto page, reservations_->List(active));
  active_cursor_ = page.size() < static_cast<size_t>(active.page_size) ? "" : page.back().id;
  // Shadows leave a location that is lost or draining (LocationService.DrainLocation); instances
  // at a lost location are not reached for (its agent does not answer).
  std::set<std::string> lost, evacuated;
  if (absl::StatusOr<store::LocationCatalog> catalog = locations_->LoadAll(); catalog.ok()) {
    for (const store::LocationRecord& l : catalog->locations) {
      if (l.lost_at.has_value()) lost.insert(l.name);
      if (l.lost_at.has_value() || l.drain_started_at.has_value()) evacuated.insert(l.name);
    }
  }
  for (const store::ReservationRecord& r : page) {
    if (r.shadow.state == "creating") {
      CreateReplacementShadow(r, r.shadow);  // a replacement whose creation did not finish
    } else if (r.shadow.state == "running" && evacuated.count(r.shadow.location) != 0) {
      // Logged and counted when blocked; tried again on the next pass.
      (void)ReplaceShadowAway(r, lost.count(r.shadow.location) != 0 ? "location_lost" : "draining");
    }
    for (const store::InstanceRecord* instance : {&r.primary, &r.shadow}) {
      if (instance->state == "running" && lost.count(instance->location) == 0) {
        Converge(r, *instance);
      }
    }
  }
  RefreshGauges();
  return absl::OkStatus();
}

std::optional<ReservationManager::ClaimHandle> ReservationManager::Claim(const std::string& id,
                                                                         absl::Duration wait) {
  absl::MutexLock lock(&inflight_mu_);
  if (wait > absl::ZeroDuration()) {
    struct Wanted {
      const std::set<std::string>* held;
      const std::string* id;
    } wanted{&inflight_, &id};
    inflight_mu_.AwaitWithTimeout(
        absl::Condition(
            +[](Wanted* w) { return w->held->count(*w->id) == 0; }, &wanted),
        wait);
  }
  if (!inflight_.insert(id).second) return std::nullopt;
  return ClaimHandle(this, id);
}

ReservationManager::ClaimHandle::~ClaimHandle() {
  if (manager_ == nullptr) return;
  absl::MutexLock lock(&manager_->inflight_mu_);
  manager_->inflight_.erase(id_);
}

bool ReservationManager::StillRecordedReadOnly(const std::string& reservation_id,
                                               const std::string& instance_id) {
  auto fresh = reservations_->Get(reservation_id);
  if (!fresh.ok() || fresh->state != "active") return false;
  for (const store::InstanceRecord* i : {&fresh->primary, &fresh->shadow}) {
    if (i->id == instance_id) return i->read_only;
  }
  return false;  // no longer the reservation's primary or shadow: not this loop's to fence
}

void ReservationManager::Converge(const store::ReservationRecord& listed,
                                  const store::InstanceRecord& listed_instance) {
  // Claimed and re-read: a release that started since the page was read must not see its
  // instances brought back.
  auto claim = Claim(listed.id);
  if (!claim.has_value()) return;
  auto current = reservations_->Get(listed.id);
  if (!current.ok() || current->state != "active") return;
  const store::ReservationRecord& r = *current;
  const store::InstanceRecord& instance = listed_instance.role == "primary" ? r.primary : r.shadow;
  if (instance.id != listed_instance.id || instance.state != "running") return;
  auto live = compute_->DescribeInstance(instance.location, instance.id);
  if (live.ok() && live->state != providers::InstanceRunState::kStopped &&
      live->state != providers::InstanceRunState::kDeleted) {
    // Fencing: an instance recorded read-only never serves writes (an old primary that returns
    // after its shadow was promoted). The other way round is the migration's to decide. The record
    // is read again after the instance: a migration making it writable records that first, so a
    // record read before would fence a promotion that has just happened.
    if (instance.read_only && !live->read_only && StillRecordedReadOnly(r.id, instance.id)) {
      auto fenced = compute_->SetReadOnly(instance.location, instance.id, true);
      LogLine log(fenced.ok() ? LogLevel::kWarning : LogLevel::kError,
                  "instance serving writes against its record fenced read-only");
      log.Field("reservation_id", r.id)
          .Field("instance_id", instance.id)
          .Field("role", instance.role);
      if (!fenced.ok()) log.Field("error", fenced.status());
    }
    return;  // as recorded (a restarting instance is the agent's to bring back)
  }
  if (!live.ok() && !absl::IsNotFound(live.status())) return;  // unreachable: next pass
  const bool data_gone = !live.ok();
  if (instance.role == "primary" && data_gone) {
    // Re-seeding would bring back old data as if it were current: leave the decision to a person
    // (or to a migration from the shadow), and make the loss visible.
    LOG_EVENT(kError, "primary instance lost with its data")
        .Field("reservation_id", r.id)
        .Field("instance_id", instance.id)
        .Field("location", instance.location);
    (void)reservations_->SetInstance(instance.id, "failed", instance.endpoint, clock_->Now());
    return;
  }
  // A stopped instance starts again with its data; a lost shadow is created anew.
  providers::InstanceSpec spec = SpecOf(r, instance);
  if (!spec.read_only) {
    // The same primary again, in the epoch it holds; one that lost its epoch meanwhile comes
    // back read-only.
    auto grant = writes_->Prepare(instance.id, false);
    if (grant.ok()) {
      spec.grant = *grant;
    } else {
      spec.read_only = true;
    }
  }
  auto created = compute_->CreateInstance(spec);
  if (created.ok() && !spec.read_only) (void)writes_->Handed(instance.id, spec.grant);
  if (!created.ok()) {
    LOG_EVENT(kWarning, "instance could not be restored")
        .Field("instance_id", instance.id)
        .Field("error", created.status());
    return;
  }
  (void)reservations_->SetInstance(instance.id, "running", created->endpoint, clock_->Now());
  LOG_EVENT(kWarning, "instance restored to its recorded state")
      .Field("reservation_id", r.id)
      .Field("instance_id", instance.id)
      .Field("role", instance.role)
      .Field("recreated", data_gone);
}

void ReservationManager::RefreshGauges() {
  if (reservation_gauges_ == nullptr) return;
  auto counts = reservations_->CountByState();
  if (!counts.ok()) return;
  std::map<std::string, int64_t> by_state = {
      {"pending", 0}, {"active", 0}, {"releasing", 0}, {"released", 0}, {"failed", 0}};
  for (const auto& [state, n] : *counts) by_state[state] = n;
  for (const auto& [state, n] : by_state) {
    reservation_gauges_->Add({{"state", state}}).Set(static_cast<double>(n));
  }
  auto instances = reservations_->CountInstances();
  if (!instances.ok()) return;
  // Every known series is rewritten, so a state that emptied reads 0 rather than its old value.
  for (auto& [labels, gauge] : instance_series_) gauge->Set(0);
  for (const auto& c : *instances) {
    prometheus::Gauge* gauge =
        &instance_gauges_->Add({{"location", c.location}, {"state", c.state}});
    instance_series_[{c.location, c.state}] = gauge;
    gauge->Set(static_cast<double>(c.count));
  }
}

}  // namespace shadowplane::reservation
