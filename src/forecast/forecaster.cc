#include "forecast/forecaster.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "forecast/default_model.h"
#include "forecast/demand_history.h"

namespace shadowplane::forecast {

namespace {

absl::Time FloorHour(absl::Time t) {
  return absl::UnixEpoch() + absl::Floor(t - absl::UnixEpoch(), absl::Hours(1));
}

bool AllFinite(const std::vector<double>& values) {
  return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

}  // namespace

Forecaster::Forecaster(store::TelemetryRepository* telemetry, const Clock* clock,
                       ForecasterOptions options, prometheus::Registry* registry,
                       ModelFactory model)
    : telemetry_(telemetry),
      clock_(clock),
      options_(options),
      model_(model ? std::move(model) : ModelFactory(MakeDefaultModel)) {
  if (registry == nullptr) return;
  fits_ = &prometheus::BuildCounter()
               .Name("shadowplane_forecast_fits_total")
               .Help("Series forecast, by the model that made the values")
               .Register(*registry);
  fallbacks_ = &prometheus::BuildCounter()
                    .Name("shadowplane_forecast_fallbacks_total")
                    .Help("Series whose chosen model failed, by why (fit_failed, not_finite)")
                    .Register(*registry);
  fit_seconds_ = &prometheus::BuildHistogram()
                      .Name("shadowplane_forecast_fit_seconds")
                      .Help("Time to fit and forecast one series")
                      .Register(*registry)
                      .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.002, 0.005,
                                                                       0.01, 0.02, 0.05, 0.1, 0.5});
}

store::ForecastRecord Forecaster::ForecastSeries(const std::string& origin_region,
                                                 const std::vector<double>& history,
                                                 absl::Time first_hour,
                                                 const store::ForecastRecord* previous) {
  const absl::Time start = absl::Now();
  const int horizon = options_.stored_horizon_hours;
  const int n = static_cast<int>(history.size());
  store::ForecastRecord r;
  r.origin_region = origin_region;
  r.first_hour = first_hour;
  r.history_hours = n;

  std::unique_ptr<ForecastModel> model = model_(n);
  if (previous != nullptr) model->WarmStart(previous->model, previous->parameters);
  absl::Status fitted = model->Fit(history);
  const char* fallback_kind = fitted.ok() ? nullptr : "fit_failed";
  if (fitted.ok()) {
    r.values = model->Forecast(horizon);
    if (r.values.size() != static_cast<size_t>(horizon) || !AllFinite(r.values)) {
      fitted = absl::InternalError(absl::StrCat(model->name(), ": the forecast is not finite"));
      fallback_kind = "not_finite";
    }
  }
  if (fitted.ok()) {
    r.model = model->name();
    r.parameters = model->parameters();
  } else {
    if (fallbacks_ != nullptr) fallbacks_->Add({{"reason", fallback_kind}}).Increment();
    r.fallback_reason = std::string(fitted.message());
    // The fallback sees only finite values: a non-finite hour counts as no requests.
    std::vector<double> clean = history;
    for (double& v : clean) v = std::isfinite(v) ? v : 0;
    std::unique_ptr<ForecastModel> fallback = MakeFallbackModel(n);
    if (n > 0 && fallback->Fit(clean).ok()) {
      r.model = fallback->name();
      r.parameters = fallback->parameters();
      r.values = fallback->Forecast(horizon);
    } else {
      r.model = "last_value";
      r.parameters.clear();
      r.values.assign(horizon, n > 0 ? clean.back() : 0.0);
    }
  }
  for (double& v : r.values) v = std::max(0.0, v);
  if (fits_ != nullptr) {
    fits_->Add({{"model", r.model}}).Increment();
    fit_seconds_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
  }
  return r;
}

absl::StatusOr<std::vector<store::ForecastRecord>> Forecaster::Compute(
    const std::string& resource_id, const std::vector<store::ForecastRecord>& previous,
    absl::Time deadline, const std::atomic<bool>* cancelled) {
  const absl::Time now = clock_->Now();
  const absl::Time first_hour = FloorHour(now);
  const absl::Time from = first_hour - options_.history;
  ASSIGN_OR_RETURN(const std::vector<store::DemandRow> rows,
                   telemetry_->Requests(resource_id, from, first_hour));
  absl::Time first_seen = absl::InfiniteFuture();
  for (const store::DemandRow& row : rows) {
    if (row.sums.requests > 0) first_seen = std::min(first_seen, row.hour);
  }
  if (first_seen == absl::InfiniteFuture()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "resource ", resource_id, " has no requests recorded in the last ",
        absl::FormatDuration(options_.history), " (--forecast_history): nothing to forecast"));
  }
  const HourlyHistory history = BuildHourlyHistory(rows, first_seen, first_hour);
  std::vector<store::ForecastRecord> out;
  auto forecast = [&](const std::string& region,
                      const std::vector<double>& series) -> absl::Status {
    if (cancelled != nullptr && cancelled->load()) {
      return absl::CancelledError("forecast cancelled (the server is stopping)");
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("forecast of resource ", resource_id,
                                                      " passed its deadline after ", out.size(),
                                                      " series"));
    }
    const store::ForecastRecord* warm = nullptr;
    for (const store::ForecastRecord& p : previous) {
      if (p.origin_region == region) warm = &p;
    }
    store::ForecastRecord r = ForecastSeries(region, series, first_hour, warm);
    r.resource_id = resource_id;
    r.computed_at = now;
    out.push_back(std::move(r));
    return absl::OkStatus();
  };
  for (const auto& [region, series] : history.regions) {
    RETURN_IF_ERROR(forecast(region, series));
  }
  RETURN_IF_ERROR(forecast("total", history.total));
  return out;
}

}  // namespace shadowplane::forecast
