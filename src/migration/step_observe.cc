// The migration step OBSERVING: realised demand watched against the forecast the move was made on,
// then DONE with whether it paid off, in dollars: the realised saving (planner/realized_saving.h).
#include "migration/migrator_internal.h"
#include "planner/calibration.h"
#include "planner/location_facts.h"
#include "planner/realized_saving.h"
#include "planner/realized_shift.h"

namespace shadowplane::migration {
namespace {

// How far before a move's start its observation looks for the demand shift (a late move's shift
// came before it started).
constexpr absl::Duration kShiftLookback = absl::Hours(24);

}  // namespace

absl::StatusOr<StepResult> Migrator::Observe(const store::MigrationRecord& m,
                                             const std::string& owner) {
  const absl::Time now = clock_->Now();
  const absl::Time until = m.progress.observe_until.value_or(now);
  if (now < until) return StepResult{m, std::min(until - now, kObservePoll)};
  const absl::Time from = m.progress.switched_at.value_or(m.state_entered_at.value_or(now));
  // Bytes served too: the realised egress.
  // One read for both questions: from a day before the move (when did the demand shift?) to the
  // window's end; the window itself is the rows from the switch's hour on.
  const absl::Time around_from =
      std::min(HourFloor(m.created_at) - kShiftLookback, HourFloor(from));
  ASSIGN_OR_RETURN(const std::vector<store::DemandRow> around,
                   telemetry_->Demand(m.resource_id, around_from, until));
  std::vector<store::DemandRow> demand;
  for (const store::DemandRow& d : around) {
    if (d.hour >= HourFloor(from)) demand.push_back(d);
  }
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
  double forecast_total = 0;
  for (const auto& [region, p] : predicted) forecast_total += p;
  if (forecast && actual > 0) next.progress.forecast_wape = abs_error / actual;

  // Paid off: the planner's objective on realised demand and prices, old location against new,
  // less what the move itself cost (planner/realized_saving.h), is a saving.
  std::string note;
  std::optional<double> judged_saving;  // a planner-started move's realised saving
  ASSIGN_OR_RETURN(Context c, Load(m));
  ASSIGN_OR_RETURN(const store::LocationCatalog catalog, locations_->LoadAll());
  const planner::CatalogFacts facts = planner::FactsOf(catalog);
  const auto old_at = facts.locations.find(c.source.location);
  const auto new_at = facts.locations.find(c.target.location);
  if (actual > 0 && old_at != facts.locations.end() && new_at != facts.locations.end()) {
    planner::RealizedMove move;
    move.old_capacity = c.source.capacity;
    move.new_capacity = c.target.capacity;
    // The new primary has full capacity; the record of the old one is a shadow's by now.
    move.old_capacity.millicores = move.new_capacity.millicores;
    move.old_capacity.memory_mib = move.new_capacity.memory_mib;
    move.window = until - from;
    move.requests = by_region;
    std::map<std::string, double> bytes_out, requests;
    const absl::Time switch_hour = HourFloor(from);
    for (const store::DemandRow& d : demand) {
      bytes_out[d.origin_region] += static_cast<double>(d.sums.bytes_out);
      requests[d.origin_region] += static_cast<double>(d.sums.requests);
      if (d.hour == switch_hour) move.requests_per_hour_at_move += d.sums.requests;
    }
    for (const auto& [region, n] : requests) {
      if (n > 0) move.bytes_per_request[region] = bytes_out[region] / n;
    }
    ASSIGN_OR_RETURN(const std::vector<store::MigrationRoundRecord> rounds,
                     migrations_->Rounds(m.id));
    for (const store::MigrationRoundRecord& round : rounds)
      move.bytes_transferred += round.bytes_wire;
    move.freeze_seconds = m.progress.freeze_seconds.value_or(0);
    if (disruptions_ != nullptr) {
      ASSIGN_OR_RETURN(const std::optional<store::DisruptionRecord> counted,
                       disruptions_->Counted(m.id));
      if (counted.has_value()) move.disrupted_sessions = counted->disrupted_affine_clients;
    }
    absl::StatusOr<planner::RealizedSaving> saving = planner::RealizedSavingOf(
        old_at->second, new_at->second, move, facts.regions, options_.rtt, options_.prices);
    if (saving.ok()) {
      next.progress.realized_saving = saving->saving;
      next.progress.paid_off = saving->saving > 0;
      note = absl::StrFormat(
          "realised saving $%.4f over %s: $%.4f at %s against $%.4f at %s, move $%.4f; "
          "mean RTT %.1f ms against %.1f ms",
          saving->saving, absl::FormatDuration(absl::Trunc(move.window, absl::Minutes(1))),
          saving->new_terms.expected_total(), new_at->first, saving->old_terms.expected_total(),
          old_at->first, saving->move_cost, saving->new_terms.latency_ms,
          saving->old_terms.latency_ms);
      if (move.disrupted_sessions > 0) {
        absl::StrAppend(&note, "; ", move.disrupted_sessions, " affine sessions disrupted");
      }
      if (!m.decision_id.empty() && m.predicted_saving.has_value()) {
        absl::StrAppend(&note, absl::StrFormat("; predicted $%.4f", *m.predicted_saving));
      }
      if (!m.decision_id.empty()) judged_saving = saving->saving;
    } else {
      note = absl::StrCat("not judged: ", saving.status().message());
    }
    // When the demand arrived: every hour read above.
    planner::ShiftQuestion shift;
    shift.old_location = c.source.location;
    shift.new_location = c.target.location;
    shift.old_capacity = move.old_capacity;
    shift.new_capacity = move.new_capacity;
    shift.started_at = m.created_at;
    shift.from = around_from;
    shift.until = until;
    for (const store::DemandRow& d : around) {
      shift.demand.push_back({d.hour, d.origin_region, static_cast<double>(d.sums.requests),
                              static_cast<double>(d.sums.bytes_out)});
    }
    absl::StatusOr<planner::RealizedShift> shifted = planner::RealizedShiftOf(
        shift, facts.locations, facts.regions, options_.rtt, options_.prices);
    if (shifted.ok() && shifted->shift_at.has_value()) {
      next.progress.realized_shift_at = shifted->shift_at;
      const absl::Duration lead = shifted->lead();
      absl::StrAppend(&note, "; demand shifted to ", c.target.location, " at ",
                      absl::FormatTime("%Y-%m-%dT%H:%MZ", *shifted->shift_at, absl::UTCTimeZone()),
                      shifted->at_or_before ? " or earlier" : "", ", the move started ",
                      absl::FormatDuration(absl::Trunc(absl::AbsDuration(lead), absl::Minutes(1))),
                      lead >= absl::ZeroDuration() ? " ahead" : " late");
    } else if (shifted.ok()) {
      absl::StrAppend(&note, "; demand never made ", c.target.location, " the cheapest");
    } else {
      absl::StrAppend(&note, "; no demand shift found: ", shifted.status().message());
    }
    if (forecast) {
      absl::StrAppend(&note, absl::StrFormat("; requests forecast %.0f, realised %.0f",
                                             forecast_total, actual));
    }
  }
  if (note.empty()) note = "no demand from known regions in the window";
  if (!forecast) absl::StrAppend(&note, "; no forecast when the migration started");
  next.progress.observation_note = note;
  absl::StatusOr<StepResult> moved =
      MoveTo(next, store::MigrationState::kDone,
             Json({{"paid_off", next.progress.paid_off.has_value()
                                    ? (*next.progress.paid_off ? "true" : "false")
                                    : "null"},
                   {"note", Quote(note)}}),
             owner);
  // Counted once the judgement is committed, so that a retried step does not count it twice.
  if (moved.ok() && judged_saving.has_value() && judged_ != nullptr) {
    judged_
        ->Add({{"confidence_bucket", planner::BucketLabel(m.predicted_confidence.value_or(0))},
               {"paid_off", *judged_saving > 0 ? "true" : "false"}})
        .Increment();
    predicted_saving_->Observe(m.predicted_saving.value_or(0));
    realized_saving_->Observe(*judged_saving);
  }
  return moved;
}

}  // namespace shadowplane::migration
