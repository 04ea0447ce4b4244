#include "planner/plan_service.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "forecast/demand_history.h"
#include "planner/outlook_builder.h"
#include "planner/placement_constraint.h"
#include "planner/planner_overrides_codec.h"
#include "store/uuid.h"

namespace shadowplane::planner {

PlanService::PlanService(Sources sources, PlanServiceOptions options)
    : sources_(std::move(sources)),
      options_(std::move(options)),
      timer_(sources_.predictor, sources_.sync_runs, options_.timing) {}

absl::StatusOr<PlanPage> PlanService::Plan(const PlanQuery& query) {
  PlannerSettings settings = options_.defaults;
  if (query.migration_threshold.has_value()) {
    settings.migration_threshold = *query.migration_threshold;
  }
  if (query.horizon.has_value()) {
    if (*query.horizon > absl::Hours(options_.forecast_horizon_hours)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "horizon must be at most the forecast horizon, ", options_.forecast_horizon_hours, "h"));
    }
    if (*query.horizon != absl::Trunc(*query.horizon, absl::Hours(1))) {
      return absl::InvalidArgumentError("horizon must be whole hours");
    }
    settings.horizon = *query.horizon;
  }
  RETURN_IF_ERROR(settings.Validate());
  if (query.page_size < 0 || query.page_size > options_.max_page_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size must be within [0, ", options_.max_page_size, "]"));
  }

  if (!query.page_token.empty() && !store::LooksLikeUuid(query.page_token)) {
    return absl::InvalidArgumentError("page_token is not one this service gave out");
  }
  ASSIGN_OR_RETURN(const std::unique_ptr<PlanRound> round, StartRound());
  // The query's overrides replace the reservation's own threshold and horizon.
  auto settings_of = [&](const store::ReservationRecord& r) {
    PlannerSettings s = SettingsOf(r);
    if (query.migration_threshold.has_value()) s.migration_threshold = settings.migration_threshold;
    if (query.horizon.has_value()) s.horizon = settings.horizon;
    return s;
  };

  PlanPage page;
  if (!query.resource_id.empty()) {
    ASSIGN_OR_RETURN(const store::ReservationRecord r,
                     sources_.reservations->GetByResource(query.resource_id));
    if (r.state != "active") {
      return absl::FailedPreconditionError(
          absl::StrCat("the reservation of ", query.resource_id, " is ", r.state, ", not active"));
    }
    std::vector<absl::StatusOr<PlanDecision>> one = PlanBatch({r}, {settings_of(r)}, *round);
    ASSIGN_OR_RETURN(PlanDecision d, std::move(one.front()));
    page.decisions.push_back(std::move(d));
    return page;
  }
  store::ReservationFilter filter;
  filter.state = "active";
  filter.page_size = query.page_size == 0 ? 50 : query.page_size;
  filter.after = query.page_token;
  ASSIGN_OR_RETURN(const std::vector<store::ReservationRecord> listed,
                   sources_.reservations->List(filter));
  std::vector<PlannerSettings> each;
  for (const store::ReservationRecord& r : listed) each.push_back(settings_of(r));
  for (absl::StatusOr<PlanDecision>& d : PlanBatch(listed, each, *round)) {
    if (!d.ok()) return d.status();
    page.decisions.push_back(*std::move(d));
  }
  if (static_cast<int>(listed.size()) == filter.page_size) page.next_page_token = listed.back().id;
  return page;
}

absl::StatusOr<std::unique_ptr<PlanRound>> PlanService::StartRound() {
  auto round = std::make_unique<PlanRound>();
  round->now = sources_.clock->Now();
  ASSIGN_OR_RETURN(const store::LocationCatalog catalog, sources_.locations->LoadAll());
  round->facts = FactsOf(catalog);
  PlanContext& context = round->context;
  context.locations = &round->facts.locations;
  context.regions = &round->facts.regions;
  context.rtt = sources_.rtt;
  context.prices = options_.prices;
  context.max_forecast_age = options_.max_forecast_age;
  context.decision_to_cutover = options_.decision_to_cutover;
  context.spot_min_discount = options_.spot_min_discount;
  context.spot_return_after = options_.spot_return_after;
  ASSIGN_OR_RETURN(context.fleet, FleetNow(round->now));
  if (sources_.events != nullptr) {
    const absl::Time hour = forecast::FloorHour(round->now);
    ASSIGN_OR_RETURN(round->events,
                     sources_.events->Overlapping(hour, hour + options_.defaults.horizon));
  }
  return round;
}

absl::StatusOr<FleetState> PlanService::FleetNow(absl::Time now) {
  FleetState fleet;
  fleet.max_planned_moves_per_hour = options_.max_planned_moves_per_hour;
  if (sources_.decisions == nullptr) return fleet;
  ASSIGN_OR_RETURN(const std::optional<store::ControlRecord> control,
                   sources_.decisions->LatestControl());
  fleet.paused = control.has_value() && control->action == "pause";
  ASSIGN_OR_RETURN(fleet.planned_moves_last_hour,
                   sources_.decisions->PlannedMovesSince(now - absl::Hours(1)));
  return fleet;
}

PlannerSettings PlanService::SettingsOf(const store::ReservationRecord& r) const {
  if (r.planner_overrides_json.empty()) return options_.defaults;
  PlannerOverrides overrides;
  // Stored only after validation; one that cannot be read falls back to the defaults.
  if (!OverridesFromJson(r.planner_overrides_json, &overrides)) return options_.defaults;
  return overrides.ApplyTo(options_.defaults);
}

std::vector<absl::StatusOr<PlanDecision>> PlanService::PlanReservations(
    const std::vector<store::ReservationRecord>& reservations, const PlanRound& round) {
  std::vector<PlannerSettings> settings;
  settings.reserve(reservations.size());
  for (const store::ReservationRecord& r : reservations) settings.push_back(SettingsOf(r));
  return PlanBatch(reservations, settings, round);
}

namespace {

// How far back a resource's migrations are read: the daily cap's day and its own dwell and
// cooldown, each with a day to spare.
absl::Duration HistoryLookBack(const AntiFlapping& a) {
  return std::max(
      {absl::Hours(48), a.min_dwell + absl::Hours(24), a.return_cooldown + absl::Hours(24)});
}

// Whether a known event over the window may change `resource_id`'s demand from `regions`
// (naming it, or naming no resource and one of the regions or none).
bool EventMayTouch(const std::vector<store::EventRecord>& events, const std::string& resource_id,
                   const std::vector<std::string>& regions) {
  for (const store::EventRecord& e : events) {
    const bool names_it = e.resource_ids.empty() ||
                          std::find(e.resource_ids.begin(), e.resource_ids.end(), resource_id) !=
                              e.resource_ids.end();
    if (!names_it) continue;
    if (e.regions.empty()) return true;
    for (const std::string& region : e.regions) {
      if (std::find(regions.begin(), regions.end(), region) != regions.end()) return true;
    }
  }
  return false;
}

}  // namespace

std::vector<absl::StatusOr<PlanDecision>> PlanService::PlanBatch(
    const std::vector<store::ReservationRecord>& reservations,
    const std::vector<PlannerSettings>& settings, const PlanRound& round) {
  const size_t n = reservations.size();
  auto all_failed = [n](const absl::Status& status) {
    return std::vector<absl::StatusOr<PlanDecision>>(n, status);
  };
  if (n == 0) return {};
  std::vector<std::string> ids;
  absl::Duration look_back = absl::ZeroDuration();
  for (size_t i = 0; i < n; ++i) {
    ids.push_back(reservations[i].resource_id);
    look_back = std::max(look_back, HistoryLookBack(settings[i].anti_flapping));
  }
  // One read of each kind for the whole batch.
  absl::StatusOr<std::map<std::string, std::vector<store::MigrationRecord>>> migrations =
      sources_.migrations->OfResources(ids, round.now - look_back);
  if (!migrations.ok()) return all_failed(migrations.status());
  double freeze_seconds = 0;
  if (sources_.expected_freeze_seconds) {
    absl::StatusOr<double> freeze = sources_.expected_freeze_seconds();
    if (!freeze.ok()) return all_failed(freeze.status());
    freeze_seconds = *freeze;
  }
  const int window_hours = static_cast<int>(absl::ToInt64Hours(options_.defaults.horizon));
  const absl::Time hour = forecast::FloorHour(round.now);
  std::map<std::string, int64_t> affine;
  if (sources_.affinity != nullptr) {
    absl::StatusOr<std::map<std::string, int64_t>> counted =
        sources_.affinity->CountAffine(ids, round.now - options_.timing.affinity_session);
    if (!counted.ok()) return all_failed(counted.status());
    affine = std::move(*counted);
  }
  std::map<std::string, store::PathSumsRecord> sums;
  if (sources_.forecasts != nullptr) {
    absl::StatusOr<std::map<std::string, store::PathSumsRecord>> read =
        sources_.forecasts->PathSumsAt(ids, hour, window_hours);
    if (!read.ok()) return all_failed(read.status());
    sums = std::move(*read);
  }

  std::vector<absl::StatusOr<PlanDecision>> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const store::ReservationRecord& r = reservations[i];
    // The reservation's own migrations, as far back as its own settings look.
    std::vector<store::MigrationRecord> own;
    const auto listed = migrations->find(r.resource_id);
    if (listed != migrations->end()) {
      const absl::Time since = round.now - HistoryLookBack(settings[i].anti_flapping);
      for (const store::MigrationRecord& m : listed->second) {
        if (m.created_at > since) own.push_back(m);
      }
    }
    absl::StatusOr<MoveHistory> history = HistoryFrom(r.resource_id, own);
    if (!history.ok()) {
      out.push_back(history.status());
      continue;
    }
    const auto affine_clients = affine.find(r.resource_id);
    Subject subject = SubjectOf(r, settings[i], round.context, *std::move(history), freeze_seconds,
                                affine_clients == affine.end() ? 0 : affine_clients->second);
    const auto found = sums.find(r.resource_id);
    const bool summed = found != sums.end() && settings[i].horizon == options_.defaults.horizon &&
                        !EventMayTouch(round.events, r.resource_id, found->second.regions);
    if (!summed) {
      // The sample paths themselves, with the events applied hour by hour.
      out.push_back(PlanFromPaths(r, settings[i], subject, round.context, round.now));
      continue;
    }
    DemandOutlook demand = OutlookOfSums(found->second);
    if (demand.paths > options_.sample_paths) {  // the first ones, as Predict would serve them
      demand.paths = options_.sample_paths;
      demand.path_requests.resize(static_cast<size_t>(demand.paths) * demand.regions.size());
    }
    PlanDecision d = Decide(subject.subject, &demand, round.context, round.now);
    d.demand_read = "window_sums";
    timer_.Time(r, subject.subject, &demand, round.context, round.now, &d);
    AddPlacementNote(subject.allowed, d);
    out.push_back(std::move(d));
  }
  return out;
}

PlanService::Subject PlanService::SubjectOf(const store::ReservationRecord& r,
                                            const PlannerSettings& settings,
                                            const PlanContext& context, MoveHistory history,
                                            double freeze_seconds, int64_t affine_clients) const {
  Subject out;
  PlanSubject& subject = out.subject;
  subject.resource_id = r.resource_id;
  subject.current_location = r.primary.location;
  subject.capacity = r.primary.capacity;
  subject.wants_spot = r.capacity.type == CapacityType::kSpot;
  subject.settings = settings;
  PlacementConstraint constraint;
  PlacementFromJson(r.placement_json, &constraint);  // unreadable: anywhere
  out.allowed = AllowedLocations(constraint.locations, constraint.regions, *context.locations,
                                 *context.regions);
  // A constraint naming what the catalog lost keeps the resource where it is.
  subject.allowed_locations = out.allowed.ok() ? *out.allowed : std::vector<std::string>{};
  subject.history = std::move(history);
  subject.move.data_bytes = r.data_size_bytes;
  subject.move.expected_freeze_seconds = freeze_seconds;
  subject.affine_clients = affine_clients;
  subject.move.affine_sessions = static_cast<double>(affine_clients);
  return out;
}

void PlanService::AddPlacementNote(const absl::StatusOr<std::vector<std::string>>& allowed,
                                   PlanDecision& d) {
  if (!allowed.ok()) {
    d.reason = absl::StrCat(d.reason, "; placement set: ", allowed.status().message());
  }
}

absl::StatusOr<PlanDecision> PlanService::PlanFromPaths(const store::ReservationRecord& r,
                                                        const PlannerSettings& settings,
                                                        const Subject& subject,
                                                        const PlanContext& context,
                                                        absl::Time now) {
  forecast::PredictQuery query;
  query.resource_id = r.resource_id;
  query.horizon_hours = static_cast<int>(absl::ToInt64Hours(settings.horizon));
  query.stored_only = true;
  query.sample_paths = options_.sample_paths;
  absl::StatusOr<forecast::Prediction> prediction = sources_.predictor->Predict(query);
  if (prediction.ok() && prediction->sample_paths == 0) {
    // No paths (a cold start): the best-location chain stands in, when it can be answered (it
    // needs requests from a known region).
    query.best_location = true;
    absl::StatusOr<forecast::Prediction> with_chain = sources_.predictor->Predict(query);
    if (with_chain.ok()) {
      prediction = std::move(with_chain);
    } else if (!absl::IsFailedPrecondition(with_chain.status())) {
      return with_chain.status();
    }
  }
  std::optional<DemandOutlook> demand;
  std::string unavailable;
  if (prediction.ok()) {
    std::map<std::string, double> bytes;  // egress per request, by region
    if (sources_.telemetry != nullptr) {
      ASSIGN_OR_RETURN(bytes, sources_.telemetry->BytesPerRequest(
                                  r.resource_id, now - options_.egress_history, now));
    }
    demand = OutlookOf(*prediction, *query.horizon_hours, bytes);
  } else if (absl::IsNotFound(prediction.status()) ||
             absl::IsFailedPrecondition(prediction.status())) {
    unavailable = std::string(prediction.status().message());
  } else {
    return prediction.status();
  }
  PlanDecision d = Decide(subject.subject, demand ? &*demand : nullptr, context, now);
  if (demand.has_value()) d.demand_read = "sample_paths";
  timer_.Time(r, subject.subject, demand ? &*demand : nullptr, context, now, &d);
  if (!unavailable.empty()) {
    for (GateCheck& g : d.gates) {
      if (g.gate == PlanGate::kNoForecast) g.detail = unavailable;
    }
  }
  AddPlacementNote(subject.allowed, d);
  return d;
}

absl::StatusOr<MoveHistory> PlanService::HistoryFrom(
    const std::string& resource_id, const std::vector<store::MigrationRecord>& migrations) {
  MoveHistory h;
  std::map<std::string, std::pair<std::string, CapacityType>> location_of;
  if (!migrations.empty()) {
    ASSIGN_OR_RETURN(const std::vector<store::InstanceRecord> instances,
                     sources_.reservations->Instances(resource_id));
    for (const store::InstanceRecord& i : instances) {
      location_of[i.id] = {i.location, i.capacity.type};
    }
  }
  for (const store::MigrationRecord& m : migrations) {
    h.migration_starts.push_back(m.created_at);
    using S = store::MigrationState;
    const bool moved = m.progress.switched_at.has_value();
    if (!store::IsFinal(m.state) && m.state != S::kObserving) h.migration_in_progress = true;
    if (!moved) continue;
    const absl::Time finished = *m.progress.switched_at;
    if (!h.last_migration_finished || finished > *h.last_migration_finished) {
      h.last_migration_finished = finished;
      h.left_at = finished;
      const auto source = location_of.find(m.source_instance_id);
      h.last_left_location = source == location_of.end() ? "" : source->second.first;
      if (source != location_of.end()) h.last_left_capacity_type = source->second.second;
    }
  }
  return h;
}

}  // namespace shadowplane::planner
