#include "forecast/forecaster.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/stable_hash.h"
#include "common/status_macros.h"
#include "forecast/demand_history.h"
#include "forecast/double_seasonal.h"
#include "forecast/holt_winters.h"
#include "forecast/pooled_profile.h"
#include "forecast/seasonal_mean.h"
#include "forecast/seasonal_naive.h"

namespace shadowplane::forecast {

namespace {

// How far back a cold start looks at other resources' demand.
constexpr absl::Duration kPooledHistory = absl::Hours(24 * 14);

}  // namespace

uint64_t SamplePathSeed(const std::string& resource_id, absl::Time now) {
  const uint64_t micros = static_cast<uint64_t>(absl::ToUnixMicros(now));
  char little_endian[8];
  for (int i = 0; i < 8; ++i) little_endian[i] = static_cast<char>(micros >> (8 * i));
  return Fnv1a64(absl::string_view(little_endian, 8), Fnv1a64(resource_id));
}

std::vector<std::unique_ptr<ForecastModel>> ServiceCandidates(int history_hours) {
  // The weekly models need two weeks (and the backtest its hours) before they can take part.
  if (history_hours >= 2 * DoubleSeasonal::kWeek + 2 * 48) return DefaultCandidates();
  std::vector<std::unique_ptr<ForecastModel>> c;
  c.push_back(std::make_unique<HoltWinters>(HoltWintersOptions{}));
  c.push_back(std::make_unique<SeasonalNaive>(24));
  c.push_back(std::make_unique<SeasonalMean>(24, 3));
  return c;
}

absl::Status StoreComputation(store::ForecastRepository& repository, Computation& computation) {
  RETURN_IF_ERROR(repository.Append(computation.records));
  if (!computation.paths.has_value()) return absl::OkStatus();
  return repository.UpsertPaths(*computation.paths, computation.path_sums);
}

Forecaster::Forecaster(store::TelemetryRepository* telemetry, const Clock* clock,
                       ForecasterOptions options, prometheus::Registry* registry,
                       CandidateFactory candidates, KnownEvents* known_events)
    : telemetry_(telemetry),
      clock_(clock),
      options_(options),
      candidates_(candidates ? std::move(candidates) : CandidateFactory(ServiceCandidates)),
      known_events_(known_events) {
  if (registry == nullptr) return;
  fits_ = &prometheus::BuildCounter()
               .Name("shadowplane_forecast_fits_total")
               .Help("Series forecast, by the model that made the values")
               .Register(*registry);
  fallbacks_ = &prometheus::BuildCounter()
                    .Name("shadowplane_forecast_fallbacks_total")
                    .Help(
                        "Series forecast by the simplest model, by why (short_history, "
                        "fit_failed, not_finite)")
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
  return Series(origin_region, history, first_hour, previous).record;
}

Forecaster::SeriesResult Forecaster::Series(const std::string& origin_region,
                                            const std::vector<double>& history,
                                            absl::Time first_hour,
                                            const store::ForecastRecord* previous) {
  const absl::Time start = absl::Now();
  const int horizon = options_.stored_horizon_hours;
  const int n = static_cast<int>(history.size());
  SeriesResult out;
  store::ForecastRecord& r = out.record;
  r.origin_region = origin_region;
  r.first_hour = first_hour;
  r.history_hours = n;
  const char* fallback_kind = nullptr;

  absl::Status finite = CheckFinite(history);
  if (finite.ok()) {
    std::vector<std::unique_ptr<ForecastModel>> candidates = candidates_(n);
    if (previous != nullptr) {
      for (const std::string& model : previous->models) {
        for (auto& c : candidates) c->WarmStart(model, previous->parameters);
      }
    }
    EnsembleOptions ensemble = options_.ensemble;
    ensemble.backtest.forecast_horizon = horizon;
    absl::StatusOr<EnsembleForecast> f = ForecastEnsemble(std::move(candidates), history, ensemble);
    if (f.ok()) {
      out.ensemble = *std::move(f);
      const EnsembleForecast& e = *out.ensemble;
      r.method = e.method;
      r.models = e.models;
      r.weights = e.weights;
      r.values.assign(e.point.begin(), e.point.begin() + horizon);  // the backtest's may be longer
      // The one model named, or "combination"; the parameters kept are those of the first model
      // that has any (what the next fit warm-starts from).
      r.model = e.method == "combined" ? "combination" : e.models[0];
      for (const std::vector<double>& p : e.parameters) {
        if (!p.empty()) {
          r.parameters = p;
          break;
        }
      }
      r.selection_note = e.note;
      r.backtest_origins = e.origins;
      r.backtest_smape = e.smape;
      r.backtest_mase = e.mase;
      for (const BacktestResult& c : e.candidates) {
        r.candidate_models.push_back(c.model);
        r.candidate_smape.push_back(c.smape);
        r.candidate_mase.push_back(c.mase);
      }
      const ErrorProfile profile = ProfileErrors(e, options_.intervals.window);
      r.lead_scale = profile.lead_scale;
      r.unit_quantiles = profile.unit_quantiles;
      if (e.method == "fallback") {
        fallback_kind = e.candidates_failed ? "fit_failed" : "short_history";
        r.fallback_reason = e.note;
      }
    } else {
      finite = f.status();
    }
  }
  if (!finite.ok()) {
    // NaN or infinite hours never reach a model: they count as no requests, and the simplest
    // model forecasts.
    fallback_kind = "not_finite";
    r.fallback_reason = std::string(finite.message());
    std::vector<double> clean = history;
    for (double& v : clean) v = std::isfinite(v) ? v : 0;
    const EnsembleForecast simplest = SimplestForecast(clean, horizon, r.fallback_reason);
    r.method = simplest.method;
    r.model = simplest.models[0];
    r.models = simplest.models;
    r.weights = simplest.weights;
    r.parameters = simplest.parameters[0];
    r.values = simplest.point;
    out.ensemble.reset();
  }
  if (fallback_kind != nullptr && fallbacks_ != nullptr) {
    fallbacks_->Add({{"reason", fallback_kind}}).Increment();
  }
  for (double& v : r.values) v = std::max(0.0, v);
  if (fits_ != nullptr) {
    fits_->Add({{"model", r.model}}).Increment();
    fit_seconds_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
  }
  return out;
}

std::optional<Forecaster::SeriesResult> Forecaster::Borrowed(const std::string& region,
                                                             const std::vector<double>& own,
                                                             const HourlyHistory& others,
                                                             absl::Time first_hour) {
  const std::vector<double>* borrowed = &others.total;
  if (region != "total") {
    auto it = others.regions.find(region);
    if (it == others.regions.end()) return std::nullopt;
    borrowed = &it->second;
  }
  absl::StatusOr<std::vector<double>> values =
      PooledProfileForecast(own, *borrowed, first_hour, options_.stored_horizon_hours);
  if (!values.ok()) return std::nullopt;  // nobody else to borrow from: the usual way
  SeriesResult out;
  store::ForecastRecord& r = out.record;
  r.origin_region = region;
  r.first_hour = first_hour;
  r.history_hours = static_cast<int>(own.size());
  r.values = *std::move(values);
  r.model = kPooledProfileModel;
  r.method = "selected";
  r.models = {kPooledProfileModel};
  r.weights = {1.0};
  r.selection_note =
      absl::StrCat("under two days of history (", own.size(),
                   " hours): the hour-of-week profile of other resources' requests from ",
                   region == "total" ? "its regions" : region,
                   " over the last two weeks, scaled to this resource's level; no intervals yet");
  if (fits_ != nullptr) fits_->Add({{"model", kPooledProfileModel}}).Increment();
  return out;
}

absl::StatusOr<Computation> Forecaster::Compute(const std::string& resource_id,
                                                const std::vector<store::ForecastRecord>& previous,
                                                absl::Time deadline,
                                                const std::atomic<bool>* cancelled) {
  ComputationInput in;
  in.resource_id = resource_id;
  // At the database's resolution, so that what is returned equals what is stored.
  in.now = absl::FromUnixMicros(absl::ToUnixMicros(clock_->Now()));
  const absl::Time first_hour = FloorHour(in.now);
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
  in.history = BuildHourlyHistory(rows, first_seen, first_hour);
  if (known_events_ != nullptr) {
    ASSIGN_OR_RETURN(const std::vector<DemandEvent> past,
                     known_events_->InHistory(resource_id, first_seen, first_hour));
    RemoveFromHistory(past, in.history);
  }
  // Cold start: under two days of its own, a resource borrows the shape of other resources'
  // demand from its regions over the last two weeks.
  if (static_cast<int>(in.history.total.size()) < kColdStartHours) {
    std::vector<std::string> regions;
    for (const auto& [region, series] : in.history.regions) regions.push_back(region);
    const absl::Time since = first_hour - kPooledHistory;
    ASSIGN_OR_RETURN(const std::vector<store::DemandRow> pooled,
                     telemetry_->OthersRequests(resource_id, regions, since, first_hour));
    in.others = BuildHourlyHistory(pooled, since, first_hour);
  }
  if (options_.path_sums.window_hours > 0) {
    // Served per request, for the planner's egress term in the paths' window sums.
    ASSIGN_OR_RETURN(in.bytes_per_request,
                     telemetry_->BytesPerRequest(
                         resource_id, first_hour - options_.path_sums.egress_history, first_hour));
  }
  return ComputeFrom(in, previous, deadline, cancelled);
}

absl::StatusOr<Computation> Forecaster::ComputeFrom(
    const ComputationInput& in, const std::vector<store::ForecastRecord>& previous,
    absl::Time deadline, const std::atomic<bool>* cancelled) {
  const std::string& resource_id = in.resource_id;
  const absl::Time now = in.now;
  const absl::Time first_hour = FloorHour(now);
  const std::optional<HourlyHistory>& others = in.others;
  Computation out;
  std::vector<EnsembleForecast> ensembles;
  auto forecast = [&](const std::string& region,
                      const std::vector<double>& series) -> absl::Status {
    if (cancelled != nullptr && cancelled->load()) {
      return absl::CancelledError("forecast cancelled (the server is stopping)");
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("forecast of resource ", resource_id,
                                                      " passed its deadline after ",
                                                      out.records.size(), " series"));
    }
    const store::ForecastRecord* warm = nullptr;
    for (const store::ForecastRecord& p : previous) {
      if (p.origin_region == region) warm = &p;
    }
    std::optional<SeriesResult> cold;
    if (others.has_value()) cold = Borrowed(region, series, *others, first_hour);
    SeriesResult r = cold.has_value() ? *std::move(cold) : Series(region, series, first_hour, warm);
    r.record.resource_id = resource_id;
    r.record.computed_at = now;
    out.records.push_back(std::move(r.record));
    if (r.ensemble.has_value()) ensembles.push_back(*std::move(r.ensemble));
    return absl::OkStatus();
  };
  for (const auto& [region, series] : in.history.regions) {
    RETURN_IF_ERROR(forecast(region, series));
  }
  RETURN_IF_ERROR(forecast("total", in.history.total));
  // Joint paths of every series (regions and total), when every one has a backtest over the same
  // origins.
  if (ensembles.size() == out.records.size()) {
    std::vector<const EnsembleForecast*> all;
    for (const EnsembleForecast& e : ensembles) all.push_back(&e);
    const uint64_t seed = SamplePathSeed(resource_id, now);
    absl::StatusOr<JointPaths> paths =
        SampleJointPaths(all, options_.sample_paths, seed, options_.intervals.spread_80);
    if (paths.ok()) {
      store::ForecastPathsRecord p;
      p.resource_id = resource_id;
      p.computed_at = now;
      p.first_hour = first_hour;
      p.paths = paths->paths;
      p.horizon = paths->horizon;
      for (const store::ForecastRecord& r : out.records) p.regions.push_back(r.origin_region);
      p.values = std::move(paths->values);
      if (options_.path_sums.window_hours > 0) {
        out.path_sums = PathSumsOf(out.records, p, options_.path_sums, in.bytes_per_request);
      }
      out.paths = std::move(p);
    }
  }
  return out;
}

}  // namespace shadowplane::forecast