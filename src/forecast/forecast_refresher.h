// Keeps every resource's stored forecast fresh, under the "forecast-refresh" lease so that one
// replica does it (a Kubernetes-style reconcile pass; the state is the `forecasts` table, so a
// restart resumes where it was). A pass:
//   1. takes or renews the lease (nothing else when another replica holds it);
//   2. deletes forecasts older than the retention, scores past forecasts whose hours have
//      passed (forecast/forecast_scorer.h), and measures events that ended
//      (forecast/event_measurer.h);
//   3. finds the resources due (demand in the history window and no forecast whose first hour is
//      within the last `refit_hours`: that many new hours arrived since), longest-waiting first,
//      at most `max_per_pass`;
//   4. computes them on the worker pool (warm-started from their last forecast), each within
//      `resource_deadline`, and appends the results; renews the lease as it goes.
// Stop() cancels a pass in progress between series.
//
// Metrics: shadowplane_forecast_refresh_leader, shadowplane_forecast_refreshes_total{result},
// shadowplane_forecast_refresh_pass_seconds, shadowplane_forecast_due_resources,
// shadowplane_forecasts_pruned_total; the fleet's forecast of the current hour per region
// (forecast/fleet_outlook.h). Thread-safe.
#ifndef SHADOWPLANE_FORECAST_FORECAST_REFRESHER_H_
#define SHADOWPLANE_FORECAST_FORECAST_REFRESHER_H_

#include <atomic>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/worker_pool.h"
#include "forecast/event_measurer.h"
#include "forecast/fleet_outlook.h"
#include "forecast/forecast_scorer.h"
#include "forecast/forecaster.h"
#include "store/forecast_repository.h"
#include "store/lease_store.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace shadowplane::forecast {

struct RefresherOptions {
  std::string owner;
  absl::Duration lease_ttl = absl::Minutes(15);
  int refit_hours = 6;
  int max_per_pass = 10000;
  absl::Duration resource_deadline = absl::Seconds(30);
  // Resources queued or being computed at once.
  int max_in_flight = 4;
  absl::Duration retention = absl::Hours(24 * 90);
};

class ForecastRefresher {
 public:
  // Computations run on `workers` (the pass waits for them); its queue must hold max_in_flight.
  // `scorer` (optional) scores past forecasts at each pass, `measurer` (optional) measures ended
  // events.
  ForecastRefresher(Forecaster* forecaster, store::ForecastRepository* forecasts,
                    store::LeaseStore* leases, const Clock* clock, WorkerPool* workers,
                    RefresherOptions options, prometheus::Registry* registry,
                    ForecastScorer* scorer = nullptr, EventMeasurer* measurer = nullptr);

  struct Pass {
    bool leader = false;
    int due = 0;
    int refreshed = 0;
    int failed = 0;
    int64_t pruned = 0;
    int scored = 0;
    int events_measured = 0;
  };
  // One pass (see above).
  absl::StatusOr<Pass> RunOnce();
  // Cancels the pass in progress (and every later one). Idempotent.
  void Stop() { stopping_ = true; }

 private:
  // Computes and stores one resource's forecast; false on failure (logged).
  bool Refresh(const std::string& resource_id);

  Forecaster* const forecaster_;
  store::ForecastRepository* const forecasts_;
  store::LeaseStore* const leases_;
  const Clock* const clock_;
  WorkerPool* const workers_;
  const RefresherOptions options_;
  ForecastScorer* const scorer_;
  EventMeasurer* const measurer_;
  std::atomic<bool> stopping_{false};
  FleetOutlook outlook_;
  prometheus::Gauge* leader_ = nullptr;
  prometheus::Gauge* due_ = nullptr;
  prometheus::Counter* pruned_ = nullptr;
  prometheus::Family<prometheus::Counter>* refreshes_ = nullptr;
  prometheus::Histogram* pass_seconds_ = nullptr;
};

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_FORECAST_REFRESHER_H_
