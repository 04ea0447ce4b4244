#include "planner/move_timer.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"

namespace shadowplane::planner {

namespace {

const CandidateExplanation* FindCandidate(const PlanDecision& d, bool current) {
  for (const CandidateExplanation& c : d.candidates) {
    if (current ? c.current
                : (!c.current && c.location == d.to_location &&
                   c.capacity_type == d.to_capacity_type && c.skipped.empty())) {
      return &c;
    }
  }
  return nullptr;
}

void SetAffinity(const PlanSubject& subject, const PlanContext& context, absl::Duration session,
                 PlanDecision* d) {
  d->affinity.clients = subject.affine_clients;
  d->affinity.session = session;
  d->affinity.price_per_session = context.prices.disrupted_session_price;
  d->affinity.expected_sessions = subject.move.affine_sessions;
  d->affinity.cost = AffinityCost(subject.move, context.prices);
}

}  // namespace

MoveTimer::MoveTimer(forecast::Predictor* predictor, store::SyncRunRepository* sync_runs,
                     MoveTimerOptions options)
    : predictor_(predictor), sync_runs_(sync_runs), options_(std::move(options)) {}

void MoveTimer::Time(const store::ReservationRecord& reservation, const PlanSubject& subject,
                     const DemandOutlook* demand, const PlanContext& context, absl::Time now,
                     PlanDecision* d) const {
  SetAffinity(subject, context, options_.affinity_session, d);
  if (d->to_location.empty() || demand == nullptr || predictor_ == nullptr) return;
  absl::StatusOr<TimingExplanation> timing = Timing(reservation, subject, *demand, *d, now);
  if (!timing.ok()) {
    d->reason = absl::StrCat(d->reason, "; untimed: ", timing.status().message());
    return;
  }
  const double ratio = timing->cutover.demand_ratio_at_cutover;
  if (subject.move.affine_sessions > 0 && ratio != 1) {
    PlanSubject at_cutover = subject;
    at_cutover.move.affine_sessions = subject.move.affine_sessions * ratio;
    PlanDecision again = Decide(at_cutover, demand, context, now);
    if (again.to_location == d->to_location && again.to_capacity_type == d->to_capacity_type) {
      again.demand_read = d->demand_read;
      *d = std::move(again);
      SetAffinity(at_cutover, context, options_.affinity_session, d);
    }
  }
  const CutoverTiming& cut = timing->cutover;
  if (d->outcome == PlanOutcome::kMove && cut.start_at >= now + options_.plan_interval) {
    d->outcome = PlanOutcome::kScheduled;
    d->reason = absl::StrCat("move at ", MinuteText(cut.start_at), ": ", d->reason);
  }
  d->reason = absl::StrFormat(
      "%s; cut over at %s (%s); affine sessions at the cutover %.1f ($%.4f)", d->reason,
      MinuteText(cut.cutover_at), cut.why, d->affinity.expected_sessions, d->affinity.cost);
  d->timing = *std::move(timing);
}

absl::StatusOr<TimingExplanation> MoveTimer::Timing(const store::ReservationRecord& reservation,
                                                    const PlanSubject& subject,
                                                    const DemandOutlook& demand,
                                                    const PlanDecision& d, absl::Time now) const {
  const CandidateExplanation* here = FindCandidate(d, /*current=*/true);
  const CandidateExplanation* there = FindCandidate(d, /*current=*/false);
  if (here == nullptr || there == nullptr) {
    return absl::FailedPreconditionError("the decision's candidates were not costed");
  }
  forecast::PredictQuery query;
  query.resource_id = reservation.resource_id;
  query.horizon_hours = static_cast<int>(absl::ToInt64Hours(subject.settings.horizon));
  query.stored_only = true;
  query.quantiles = {0.5};
  ASSIGN_OR_RETURN(const forecast::Prediction prediction, predictor_->Predict(query));
  const int hours = std::max(1, std::min(prediction.horizon_hours, *query.horizon_hours));
  const double horizon_hours = absl::ToDoubleHours(subject.settings.horizon);

  HourlyOutlook outlook;
  outlook.first_hour = prediction.first_hour;
  outlook.requests.assign(static_cast<size_t>(hours), 0);
  outlook.current_cost.assign(static_cast<size_t>(hours), here->terms.fixed() / horizon_hours);
  outlook.target_cost.assign(static_cast<size_t>(hours), there->terms.fixed() / horizon_hours);
  std::map<std::string, size_t> column;
  for (size_t r = 0; r < demand.regions.size(); ++r) column[demand.regions[r]] = r;
  for (const forecast::SeriesPrediction& series : prediction.regions) {
    const auto at = column.find(series.origin_region);
    const double unit_here = at != column.end() && at->second < here->terms.unit_cost.size()
                                 ? here->terms.unit_cost[at->second]
                                 : 0;
    const double unit_there = at != column.end() && at->second < there->terms.unit_cost.size()
                                  ? there->terms.unit_cost[at->second]
                                  : 0;
    for (int h = 0; h < hours && h < static_cast<int>(series.values.size()); ++h) {
      const double q = std::isfinite(series.values[static_cast<size_t>(h)])
                           ? std::max(0.0, series.values[static_cast<size_t>(h)])
                           : 0;
      outlook.requests[static_cast<size_t>(h)] += q;
      outlook.current_cost[static_cast<size_t>(h)] += q * unit_here;
      outlook.target_cost[static_cast<size_t>(h)] += q * unit_there;
    }
  }

  PrecopyInputs precopy = options_.precopy;
  precopy.data_bytes = subject.move.data_bytes;
  TimingExplanation out;
  if (sync_runs_ != nullptr) {
    ASSIGN_OR_RETURN(const store::TransferStats stats,
                     sync_runs_->Transfer(reservation.id, d.to_location));
    precopy.measured_bandwidth = stats.bandwidth_bytes_per_second;
    precopy.dirty_bytes_per_second = stats.dirty_bytes_per_second;
  }
  out.dirty_bytes_per_second = precopy.dirty_bytes_per_second;
  out.precopy = EstimatePrecopy(precopy);
  out.cutover = PlanCutover(now, out.precopy.domain, outlook, subject.settings.blackouts);
  return out;
}

}  // namespace shadowplane::planner
