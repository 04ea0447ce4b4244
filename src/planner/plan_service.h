// The planner's dry run and the loop's reader: gathers reservations' inputs (the stored
// forecast's sample paths, the catalog, the reservations' migrations, the freeze model's price of
// a cutover) and runs the pure decision (planner/move_decision.h) on them. Stores nothing and
// never refits a forecast: it reads the stored one, and a stale one is a gate.
//
// Reservations are planned a batch at a time, with one read of each kind for the batch: the
// paths' window sums at the current hour (forecast/path_sums.h, with the bytes served per request
// before the forecast was computed), the migrations. A reservation is decided from the sums when
// they exist for its window (its horizon is the default, --plan_horizon, that the refresher sums
// over) and no known event over the window may touch it; otherwise from the sample paths themselves
// through forecast::Predictor (events applied hour by hour, the best-location chain on a cold
// start). Both give the same decision: the sums are those of the paths, made when they were.
#ifndef SHADOWPLANE_PLANNER_PLAN_SERVICE_H_
#define SHADOWPLANE_PLANNER_PLAN_SERVICE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "forecast/predictor.h"
#include "geo/distance.h"
#include "planner/location_facts.h"
#include "planner/move_decision.h"
#include "planner/move_timer.h"
#include "planner/planner_settings.h"
#include "store/decision_repository.h"
#include "store/disruption_repository.h"
#include "store/event_repository.h"
#include "store/forecast_repository.h"
#include "store/location_repository.h"
#include "store/migration_repository.h"
#include "store/reservation_repository.h"
#include "store/sync_run_repository.h"
#include "store/telemetry_repository.h"

namespace shadowplane::planner {

struct PlanServiceOptions {
  // The global defaults a reservation's settings start from.
  PlannerSettings defaults;
  PlanPrices prices;
  absl::Duration max_forecast_age = absl::Hours(2);
  absl::Duration decision_to_cutover = absl::Minutes(30);
  // Sample paths read per resource (the forecaster stores up to its --sample_paths).
  int sample_paths = 200;
  // The longest horizon the stored forecasts cover.
  int forecast_horizon_hours = forecast::kDefaultHorizonHours;
  int max_page_size = 500;
  // The fleet's budget of planned migrations per hour (the planner's and location drains').
  int max_planned_moves_per_hour = 20;
  // The past over which bytes per request are averaged (up to now when the paths are read; up to
  // the forecast's computation when its window sums are, which carry them).
  absl::Duration egress_history = absl::Hours(24 * 7);
  // Spot (planner/spot_prices.h): how much cheaper than on-demand, risk counted, spot must be,
  // and how long it must have been available again before a resource moves back to it.
  double spot_min_discount = 0.3;
  absl::Duration spot_return_after = absl::Hours(1);
  // Client affinity and cutover timing (planner/move_timer.h).
  MoveTimerOptions timing;
};

struct PlanQuery {
  std::string resource_id;  // empty: every active reservation, paged
  std::optional<double> migration_threshold;
  std::optional<absl::Duration> horizon;
  int page_size = 50;
  std::string page_token;
};

// What every decision of one pass over many reservations shares: the catalog, the prices and the
// fleet's state, read once.
struct PlanRound {
  absl::Time now;
  CatalogFacts facts;
  PlanContext context;  // points into `facts`: a round is not copied or moved
  // Known events overlapping the default window from the current hour.
  std::vector<store::EventRecord> events;
  PlanRound() = default;
  PlanRound(const PlanRound&) = delete;
  PlanRound& operator=(const PlanRound&) = delete;
};

struct PlanPage {
  std::vector<PlanDecision> decisions;
  std::string next_page_token;  // empty: the last page
};

class PlanService {
 public:
  struct Sources {
    store::ReservationRepository* reservations = nullptr;
    store::LocationRepository* locations = nullptr;
    store::MigrationRepository* migrations = nullptr;
    forecast::Predictor* predictor = nullptr;
    // The fleet's pause switch and its planned moves of the last hour (optional: without it the
    // fleet is never paused and the budget never reached).
    store::DecisionRepository* decisions = nullptr;
    // Bytes served per request by region, for the egress term (optional: without it, 0).
    store::TelemetryRepository* telemetry = nullptr;
    // The paths' window sums (optional: without it, every reservation reads its paths).
    store::ForecastRepository* forecasts = nullptr;
    // Known events, to tell when the sums cannot stand for the paths (required with `forecasts`).
    store::EventRepository* events = nullptr;
    // The clients affine to each resource (optional: without it, none are).
    store::DisruptionRepository* affinity = nullptr;
    // Recent sync rounds, for the pre-copy estimate (optional: the default bandwidth).
    store::SyncRunRepository* sync_runs = nullptr;
    const geo::RttModel* rtt = nullptr;
    // The expected write freeze of a cutover, in seconds (the freeze model's price of a move).
    std::function<absl::StatusOr<double>()> expected_freeze_seconds;
    const Clock* clock = nullptr;
  };

  PlanService(Sources sources, PlanServiceOptions options);

  // INVALID_ARGUMENT naming migration_threshold, horizon, page_size or page_token; NOT_FOUND for
  // an unknown resource; FAILED_PRECONDITION for one whose reservation is not active.
  absl::StatusOr<PlanPage> Plan(const PlanQuery& query);

  // The planner loop's two halves: a round's shared inputs, then batches of reservations, each
  // decided under its own settings (the defaults with its overrides). Thread-safe: a round may be
  // shared by the worker threads that plan its batches.
  absl::StatusOr<std::unique_ptr<PlanRound>> StartRound();
  // One decision (or the error that stopped it) per reservation, in order, each under its own
  // settings, with one read of each kind for all of them.
  std::vector<absl::StatusOr<PlanDecision>> PlanReservations(
      const std::vector<store::ReservationRecord>& reservations, const PlanRound& round);

  // The reservation's settings: the defaults with its stored overrides laid over them (defaults
  // alone when it has none, or none that can be read).
  PlannerSettings SettingsOf(const store::ReservationRecord& reservation) const;

  const PlanServiceOptions& options() const { return options_; }

 private:
  struct Subject {
    PlanSubject subject;
    absl::StatusOr<std::vector<std::string>> allowed;  // the placement set, resolved
  };
  std::vector<absl::StatusOr<PlanDecision>> PlanBatch(
      const std::vector<store::ReservationRecord>& reservations,
      const std::vector<PlannerSettings>& settings, const PlanRound& round);
  // From the sample paths, through the predictor.
  absl::StatusOr<PlanDecision> PlanFromPaths(const store::ReservationRecord& reservation,
                                             const PlannerSettings& settings,
                                             const Subject& subject, const PlanContext& context,
                                             absl::Time now);
  Subject SubjectOf(const store::ReservationRecord& reservation, const PlannerSettings& settings,
                    const PlanContext& context, MoveHistory history, double freeze_seconds,
                    int64_t affine_clients) const;
  static void AddPlacementNote(const absl::StatusOr<std::vector<std::string>>& allowed,
                               PlanDecision& d);
  absl::StatusOr<FleetState> FleetNow(absl::Time now);
  // From the resource's migrations as read.
  absl::StatusOr<MoveHistory> HistoryFrom(const std::string& resource_id,
                                          const std::vector<store::MigrationRecord>& migrations);

  const Sources sources_;
  const PlanServiceOptions options_;
  const MoveTimer timer_;
};

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_PLANNER_PLAN_SERVICE_H_
