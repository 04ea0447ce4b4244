#include "forecast/forecast_refresher.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/synchronization/mutex.h"
#include "common/bounded_batch.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "forecast/demand_history.h"

namespace shadowplane::forecast {

namespace {
constexpr char kLeaseName[] = "forecast-refresh";
}  // namespace

ForecastRefresher::ForecastRefresher(Forecaster* forecaster, store::ForecastRepository* forecasts,
                                     store::LeaseStore* leases, const Clock* clock,
                                     WorkerPool* workers, RefresherOptions options,
                                     prometheus::Registry* registry, ForecastScorer* scorer,
                                     EventMeasurer* measurer)
    : forecaster_(forecaster),
      forecasts_(forecasts),
      leases_(leases),
      clock_(clock),
      workers_(workers),
      options_(std::move(options)),
      scorer_(scorer),
      measurer_(measurer),
      outlook_(registry) {
  if (registry == nullptr) return;
  leader_ = &prometheus::BuildGauge()
                 .Name("shadowplane_forecast_refresh_leader")
                 .Help("1 when this replica holds the forecast-refresh lease")
                 .Register(*registry)
                 .Add({});
  due_ = &prometheus::BuildGauge()
              .Name("shadowplane_forecast_due_resources")
              .Help("Resources due a new forecast at the last refresh pass")
              .Register(*registry)
              .Add({});
  pruned_ = &prometheus::BuildCounter()
                 .Name("shadowplane_forecasts_pruned_total")
                 .Help("Stored forecasts deleted after --forecast_retention")
                 .Register(*registry)
                 .Add({});
  refreshes_ = &prometheus::BuildCounter()
                    .Name("shadowplane_forecast_refreshes_total")
                    .Help("Scheduled forecast computations of a resource, by result")
                    .Register(*registry);
  pass_seconds_ =
      &prometheus::BuildHistogram()
           .Name("shadowplane_forecast_refresh_pass_seconds")
           .Help("Duration of a forecast refresh pass")
           .Register(*registry)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.1, 1, 10, 60, 300, 1800});
}

bool ForecastRefresher::Refresh(const std::string& resource_id) {
  absl::StatusOr<std::vector<store::ForecastRecord>> previous = forecasts_->Latest(resource_id);
  absl::Status status = previous.status();
  if (status.ok()) {
    absl::StatusOr<Computation> computation = forecaster_->Compute(
        resource_id, *previous, absl::Now() + options_.resource_deadline, &stopping_);
    status = computation.status();
    if (status.ok()) status = StoreComputation(*forecasts_, *computation);
    if (status.ok()) outlook_.Note(computation->records, clock_->Now());
  }
  if (refreshes_ != nullptr) {
    refreshes_->Add({{"result", status.ok() ? "ok" : "failed"}}).Increment();
  }
  if (!status.ok() && !absl::IsCancelled(status)) {
    LOG_EVENT(kWarning, "forecast refresh failed")
        .Field("resource_id", resource_id)
        .Field("error", status);
  }
  return status.ok();
}

absl::StatusOr<ForecastRefresher::Pass> ForecastRefresher::RunOnce() {
  Pass pass;
  if (stopping_) return pass;
  const absl::Time started = absl::Now();
  ASSIGN_OR_RETURN(pass.leader,
                   leases_->TryAcquire(kLeaseName, options_.owner, options_.lease_ttl));
  if (leader_ != nullptr) leader_->Set(pass.leader ? 1 : 0);
  if (!pass.leader) return pass;

  const absl::Time now = clock_->Now();
  outlook_.Expire(now);
  ASSIGN_OR_RETURN(pass.pruned, forecasts_->PruneBefore(now - options_.retention));
  if (pruned_ != nullptr) pruned_->Increment(static_cast<double>(pass.pruned));
  if (scorer_ != nullptr) {
    absl::StatusOr<int> scored = scorer_->RunOnce();
    if (scored.ok()) {
      pass.scored = *scored;
    } else {
      LOG_EVENT(kWarning, "scoring forecasts failed").Field("error", scored.status());
    }
  }
  if (measurer_ != nullptr) {
    // Before the refits: a measured event's effect is then taken out of the history they use.
    absl::StatusOr<int> measured = measurer_->RunOnce();
    if (measured.ok()) {
      pass.events_measured = *measured;
    } else {
      LOG_EVENT(kWarning, "measuring events failed").Field("error", measured.status());
    }
  }
  const absl::Time current_hour = FloorHour(now);
  ASSIGN_OR_RETURN(
      const std::vector<std::string> due,
      forecasts_->Due(current_hour - forecaster_->options().history,
                      current_hour - absl::Hours(options_.refit_hours), options_.max_per_pass));
  pass.due = static_cast<int>(due.size());
  if (due_ != nullptr) due_->Set(pass.due);

  absl::Mutex mu;
  absl::Time renewed = absl::Now();
  // At most max_in_flight queued or running, so that a long pass holds no more than that; the
  // batch waits for its tasks before `pass` and `mu` go, an early return included.
  BoundedBatch batch(workers_, options_.max_in_flight);
  for (const std::string& id : due) {
    if (stopping_) break;
    if (absl::Now() - renewed > options_.lease_ttl / 3) {
      ASSIGN_OR_RETURN(const bool still,
                       leases_->TryAcquire(kLeaseName, options_.owner, options_.lease_ttl));
      renewed = absl::Now();
      if (!still) break;  // another replica took over (this one stalled past the lease)
    }
    const bool queued = batch.Submit([this, id, &mu, &pass] {
      const bool ok = Refresh(id);
      absl::MutexLock lock(&mu);
      ok ? ++pass.refreshed : ++pass.failed;
    });
    if (!queued) break;  // the pool is shutting down
  }
  batch.Wait();
  if (pass_seconds_ != nullptr)
    pass_seconds_->Observe(absl::ToDoubleSeconds(absl::Now() - started));
  if (pass.refreshed > 0 || pass.failed > 0 || pass.pruned > 0 || pass.scored > 0 ||
      pass.events_measured > 0) {
    LOG_EVENT(kInfo, "forecast refresh pass")
        .Field("due", pass.due)
        .Field("refreshed", pass.refreshed)
        .Field("failed", pass.failed)
        .Field("pruned", pass.pruned)
        .Field("scored", pass.scored)
        .Field("events_measured", pass.events_measured)
        .Field("seconds", absl::ToDoubleSeconds(absl::Now() - started));
  }
  return pass;
}

}  // namespace shadowplane::forecast
