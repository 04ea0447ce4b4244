// The migration step OBSERVING: realised demand watched against the forecast the move was made on,
// then DONE with whether it paid off.
#include "migration/migrator_internal.h"

namespace shadowplane::migration {

absl::StatusOr<StepResult> Migrator::Observe(const store::MigrationRecord& m,
                                             const std::string& owner) {
  const absl::Time now = clock_->Now();
  const absl::Time until = m.progress.observe_until.value_or(now);
  if (now < until) return StepResult{m, std::min(until - now, kObservePoll)};
  const absl::Time from = m.progress.switched_at.value_or(m.state_entered_at.value_or(now));
  ASSIGN_OR_RETURN(std::vector<store::DemandRow> demand,
                   telemetry_->Requests(m.resource_id, HourFloor(from), until));
  std::vector<store::MigrationObservationRecord> realized;
  std::map<std::string, double> by_region;  // in the window, hours prorated
  for (const store::DemandRow& d : demand) {
    realized.push_back(
        {d.origin_region, d.hour, std::nullopt, static_cast<double>(d.sums.requests)});
    by_region[d.origin_region] += d.sums.requests * Overlap(d.hour, from, until);
  }
  RETURN_IF_ERROR(migrations_->RecordRealized(m.id, realized));
  ASSIGN_OR_RETURN(std::vector<store::MigrationObservationRecord> rows,
                   migrations_->Observations(m.id));
  std::map<std::string, double> predicted;
  bool forecast = false;
  for (const auto& o : rows) {
    if (!o.predicted_requests.has_value()) continue;
    forecast = true;
    predicted[o.origin_region] += *o.predicted_requests * Overlap(o.hour, from, until);
  }
  store::MigrationRecord next = m;
  double abs_error = 0, actual = 0;
  for (const auto& [region, p] : predicted) abs_error += std::abs(by_region[region] - p);
  for (const auto& [region, a] : by_region) {
    actual += a;
    if (predicted.count(region) == 0) abs_error += a;
  }
  if (forecast && actual > 0) next.progress.forecast_wape = abs_error / actual;

  // Paid off: the realised demand is closer (demand-weighted RTT) to the new primary's location
  // than to the old one's.
  std::string note;
  ASSIGN_OR_RETURN(Context c, Load(m));
  auto old_at = locations_->GetLocation(c.source.location);
  auto new_at = locations_->GetLocation(c.target.location);
  if (actual > 0 && old_at.ok() && new_at.ok()) {
    double old_ms = 0, new_ms = 0, weight = 0;
    for (const auto& [region, a] : by_region) {
      auto where = locations_->GetRegion(region);
      if (!where.ok()) continue;
      const geo::Coordinates at{where->latitude, where->longitude};
      old_ms +=
          a * options_.rtt.RttMs(region, at, old_at->name, {old_at->latitude, old_at->longitude});
      new_ms +=
          a * options_.rtt.RttMs(region, at, new_at->name, {new_at->latitude, new_at->longitude});
      weight += a;
    }
    if (weight > 0) {
      next.progress.paid_off = new_ms < old_ms;
      note = absl::StrFormat("demand-weighted RTT %.1f ms at %s against %.1f ms at %s",
                             new_ms / weight, new_at->name, old_ms / weight, old_at->name);
    }
  }
  if (note.empty()) note = "no demand from known regions in the window";
  if (!forecast) absl::StrAppend(&note, "; no forecast when the migration started");
  next.progress.observation_note = note;
  return MoveTo(next, store::MigrationState::kDone,
                Json({{"paid_off", next.progress.paid_off.has_value()
                                       ? (*next.progress.paid_off ? "true" : "false")
                                       : "null"},
                      {"note", Quote(note)}}),
                owner);
}

}  // namespace shadowplane::migration
