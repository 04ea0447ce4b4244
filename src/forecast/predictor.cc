#include "forecast/predictor.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "forecast/demand_history.h"
#include "forecast/event_effects.h"
#include "forecast/intervals.h"
#include "forecast/location_outlook.h"
#include "store/uuid.h"

namespace shadowplane::forecast {

namespace {

const std::vector<double> kDefaultQuantiles = {0.025, 0.1, 0.5, 0.9, 0.975};

// Whether `records` (one computation) holds a total and reaches `horizon` hours past `hour`.
bool Covers(const std::vector<store::ForecastRecord>& records, absl::Time hour, int horizon) {
  bool total = false;
  for (const store::ForecastRecord& r : records) {
    if (r.first_hour > hour) return false;
    const int64_t offset = (hour - r.first_hour) / absl::Hours(1);
    if (offset + horizon > static_cast<int64_t>(r.values.size())) return false;
    total = total || r.origin_region == "total";
  }
  return total;
}

ErrorProfile ProfileOf(const store::ForecastRecord& r) {
  ErrorProfile p;
  p.lead_scale = r.lead_scale;
  p.unit_quantiles = r.unit_quantiles;
  return p;
}

// The served hours of a record's point forecast.
std::vector<double> Served(const store::ForecastRecord& r, absl::Time hour, int horizon) {
  const int offset = static_cast<int>((hour - r.first_hour) / absl::Hours(1));
  const absl::Span<const double> point = absl::MakeConstSpan(r.values).subspan(offset, horizon);
  return std::vector<double>(point.begin(), point.end());
}

// `adjusted`: the served hours with known events applied, or null when none changes them.
SeriesPrediction MakeSeries(const store::ForecastRecord& r, absl::Time hour, int horizon,
                            const std::vector<double>& quantiles,
                            const std::vector<double>* adjusted) {
  SeriesPrediction out;
  out.origin_region = r.origin_region;
  out.model = r.model;
  out.parameters = r.parameters;
  const int offset = static_cast<int>((hour - r.first_hour) / absl::Hours(1));
  std::vector<double> point = Served(r, hour, horizon);
  out.history_hours = r.history_hours;
  out.fallback_reason = r.fallback_reason;
  out.forecast_id = r.id;
  out.method = r.method;
  out.models = r.models;
  out.weights = r.weights;
  out.selection_note = r.selection_note;
  const ErrorProfile profile = ProfileOf(r);
  for (double q : quantiles) {
    std::vector<double> values = QuantileSeries(profile, point, offset, q);
    if (adjusted != nullptr) ScaleLikePoint(point, *adjusted, values);
    out.quantiles.push_back(QuantileValues{q, std::move(values)});
  }
  if (r.backtest_origins > 0) {
    out.backtest = ModelAccuracy{r.model, r.backtest_smape, r.backtest_mase};
  }
  out.backtest_origins = r.backtest_origins;
  if (adjusted != nullptr) {
    out.values = *adjusted;
    out.baseline_values = std::move(point);
  } else {
    out.values = std::move(point);
  }
  return out;
}

}  // namespace

Predictor::Predictor(Forecaster* forecaster, store::ForecastRepository* forecasts,
                     store::TelemetryRepository* telemetry, const Clock* clock,
                     PredictorOptions options, prometheus::Registry* registry,
                     store::LocationRepository* locations,
                     store::ReservationRepository* reservations, KnownEvents* known_events)
    : forecaster_(forecaster),
      forecasts_(forecasts),
      telemetry_(telemetry),
      clock_(clock),
      options_(options),
      locations_(locations),
      reservations_(reservations),
      known_events_(known_events) {
  if (registry == nullptr) return;
  predictions_ =
      &prometheus::BuildCounter()
           .Name("shadowplane_forecast_predictions_total")
           .Help("Predict answers, by whether the forecast was stored or computed for it")
           .Register(*registry);
}

absl::Status Predictor::CheckResource(const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("resource_id is required");
  if (!store::LooksLikeUuid(id)) {
    return absl::InvalidArgumentError(absl::StrCat("resource_id \"", id, "\" is not a UUID"));
  }
  ASSIGN_OR_RETURN(const bool exists, telemetry_->ResourceExists(id));
  if (!exists) return absl::NotFoundError(absl::StrCat("resource ", id, " not found"));
  return absl::OkStatus();
}

absl::StatusOr<Prediction> Predictor::Predict(const PredictQuery& query) {
  const std::string& id = query.resource_id;
  if (id.empty()) return absl::InvalidArgumentError("resource_id is required");
  const int horizon = query.horizon_hours.value_or(kDefaultHorizonHours);
  if (horizon <= 0 || horizon > options_.max_horizon_hours) {
    return absl::InvalidArgumentError(absl::StrCat("horizon_hours must be within [1, ",
                                                   options_.max_horizon_hours,
                                                   "] (--max_horizon_hours), got ", horizon));
  }
  if (query.quantiles.size() > kMaxQuantiles) {
    return absl::InvalidArgumentError(absl::StrCat("quantiles: at most ", kMaxQuantiles,
                                                   " levels, got ", query.quantiles.size()));
  }
  const std::vector<double> quantiles =
      query.quantiles.empty() ? kDefaultQuantiles : query.quantiles;
  if (absl::Status s = CheckQuantiles(quantiles); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("quantiles: ", s.message()));
  }
  const int max_paths = forecaster_->options().sample_paths;
  if (query.sample_paths < 0 || query.sample_paths > max_paths) {
    return absl::InvalidArgumentError(absl::StrCat("sample_paths must be within [0, ", max_paths,
                                                   "] (--sample_paths), got ", query.sample_paths));
  }
  RETURN_IF_ERROR(CheckResource(id));

  const absl::Time hour = FloorHour(clock_->Now());
  ASSIGN_OR_RETURN(std::vector<store::ForecastRecord> records, forecasts_->Latest(id));
  const bool compute = query.refresh || !Covers(records, hour, horizon);
  if (query.refresh && query.stored_only) {
    return absl::InvalidArgumentError("refresh and stored_only exclude each other");
  }
  if (compute && query.stored_only) {
    if (records.empty()) return absl::NotFoundError(absl::StrCat("no stored forecast of ", id));
    return absl::FailedPreconditionError(absl::StrCat(
        "the stored forecast of ", id, " does not cover the next ", horizon, " hours"));
  }
  if (compute) {
    ASSIGN_OR_RETURN(Computation fresh,
                     forecaster_->Compute(id, records, absl::Now() + options_.compute_deadline));
    RETURN_IF_ERROR(StoreComputation(*forecasts_, fresh));
    records = std::move(fresh.records);
  }
  if (predictions_ != nullptr) {
    predictions_->Add({{"source", compute ? "computed" : "stored"}}).Increment();
  }
  ASSIGN_OR_RETURN(const std::vector<store::RealizedAccuracy> realized,
                   forecasts_->Realized(id, hour - options_.realized_window));
  Prediction prediction;
  prediction.resource_id = id;
  prediction.first_hour = hour;
  prediction.horizon_hours = horizon;
  prediction.computed_now = compute;
  // Known events over the served hours: applied to every series, listed when they change one.
  SeriesSet served;
  served.first_hour = hour;
  for (const store::ForecastRecord& r : records) {
    served.names.push_back(r.origin_region);
    served.values.push_back(Served(r, hour, horizon));
  }
  std::vector<DemandEvent> effects;
  if (known_events_ != nullptr) {
    ASSIGN_OR_RETURN(std::vector<ResolvedEvent> events,
                     known_events_->ForForecast(id, hour, hour + absl::Hours(horizon)));
    for (ResolvedEvent& e : events) {
      if (!AnyEffect({e.effect}, served)) continue;
      effects.push_back(e.effect);
      prediction.events.push_back(std::move(e));
    }
  }
  const std::vector<std::vector<double>> adjusted = ApplyEventEffects(effects, served);
  // Regions keep the stored order; the total is kept apart.
  for (size_t i = 0; i < records.size(); ++i) {
    const store::ForecastRecord& r = records[i];
    prediction.computed_at = r.computed_at;
    const bool changed = adjusted[i] != served.values[i];
    SeriesPrediction series =
        MakeSeries(r, hour, horizon, quantiles, changed ? &adjusted[i] : nullptr);
    for (const store::RealizedAccuracy& a : realized) {
      if (a.origin_region == r.origin_region) series.realized = a;
    }
    if (r.origin_region == "total") {
      prediction.total = std::move(series);
    } else {
      prediction.regions.push_back(std::move(series));
    }
  }
  if (query.best_location) RETURN_IF_ERROR(AnswerBestLocation(id, hour, horizon, prediction));
  if (query.sample_paths > 0 && !records.empty()) {
    absl::StatusOr<store::ForecastPathsRecord> paths = forecasts_->LatestPaths(id);
    // Only the paths of the computation being served.
    if (paths.ok() && paths->computed_at == records[0].computed_at) {
      const int offset = static_cast<int>((hour - paths->first_hour) / absl::Hours(1));
      const int hours = std::max(0, std::min(horizon, paths->horizon - offset));
      const int n = std::min(query.sample_paths, paths->paths);
      prediction.sample_paths = hours > 0 ? n : 0;
      prediction.paths_hours = hours;
      std::map<std::string, SeriesPrediction*> by_region;
      for (SeriesPrediction& r : prediction.regions) by_region[r.origin_region] = &r;
      by_region[prediction.total.origin_region] = &prediction.total;
      for (int p = 0; p < n && hours > 0; ++p) {
        // Path p of every series, with the events applied like the point forecast.
        SeriesSet path;
        path.first_hour = hour;
        path.names = paths->regions;
        for (const std::vector<float>& region : paths->values) {
          const float* v = &region[static_cast<size_t>(p) * paths->horizon + offset];
          path.values.emplace_back(v, v + hours);
        }
        const std::vector<std::vector<double>> values = ApplyEventEffects(effects, path);
        for (size_t r = 0; r < paths->regions.size(); ++r) {
          auto it = by_region.find(paths->regions[r]);
          if (it == by_region.end()) continue;
          for (double v : values[r]) it->second->sample_paths.push_back(static_cast<float>(v));
        }
      }
    } else if (!paths.ok() && !absl::IsNotFound(paths.status())) {
      return paths.status();
    }
  }
  return prediction;
}

absl::Status Predictor::AnswerBestLocation(const std::string& id, absl::Time hour, int horizon,
                                           Prediction& prediction) {
  if (locations_ == nullptr || reservations_ == nullptr) {
    return absl::UnimplementedError("best_location is not served here");
  }
  ASSIGN_OR_RETURN(const store::LocationCatalog catalog, locations_->LoadAll());
  ASSIGN_OR_RETURN(const std::string placement, reservations_->PlacementOfResource(id));
  ASSIGN_OR_RETURN(const std::vector<store::LocationRecord> candidates,
                   CandidateLocations(placement, catalog));
  const absl::Time from = hour - forecaster_->options().history;
  ASSIGN_OR_RETURN(const std::vector<store::DemandRow> rows, telemetry_->Requests(id, from, hour));
  ASSIGN_OR_RETURN(
      const LocationOutlook outlook,
      OutlookFor(BuildHourlyHistory(rows, from, hour), candidates, catalog, horizon, options_.rtt));
  prediction.best_location_now = outlook.best_now;
  for (size_t i = 0; i < outlook.locations.size(); ++i) {
    prediction.best_location.push_back(
        LocationProbability{outlook.locations[i], outlook.probability[i]});
  }
  return absl::OkStatus();
}

absl::StatusOr<BacktestReport> Predictor::Backtest(const BacktestQuery& query) {
  const std::string& id = query.resource_id;
  const int days = query.realized_days.value_or(kDefaultRealizedDays);
  if (days < 1 || days > 400) {
    return absl::InvalidArgumentError(
        absl::StrCat("realized_days must be within [1, 400], got ", days));
  }
  RETURN_IF_ERROR(CheckResource(id));
  ASSIGN_OR_RETURN(const std::vector<store::ForecastRecord> records, forecasts_->Latest(id));
  if (records.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("resource ", id, " has not been forecast yet (Predict computes one)"));
  }
  ASSIGN_OR_RETURN(const std::vector<store::RealizedAccuracy> realized,
                   forecasts_->Realized(id, clock_->Now() - absl::Hours(24 * days)));
  BacktestReport report;
  report.resource_id = id;
  report.computed_at = records[0].computed_at;
  std::vector<const store::ForecastRecord*> ordered;
  for (const auto& r : records) {
    if (r.origin_region != "total") ordered.push_back(&r);
  }
  for (const auto& r : records) {
    if (r.origin_region == "total") ordered.push_back(&r);
  }
  for (const store::ForecastRecord* r : ordered) {
    SeriesBacktest s;
    s.origin_region = r->origin_region;
    s.method = r->method;
    s.models = r->models;
    s.weights = r->weights;
    s.selection_note = r->selection_note;
    s.origins = r->backtest_origins;
    if (r->backtest_origins > 0) {
      s.forecast = ModelAccuracy{r->model, r->backtest_smape, r->backtest_mase};
    }
    for (size_t i = 0; i < r->candidate_models.size(); ++i) {
      ModelAccuracy c{r->candidate_models[i], 0, 0};
      if (i < r->candidate_smape.size()) c.smape = r->candidate_smape[i];
      if (i < r->candidate_mase.size()) c.mase = r->candidate_mase[i];
      s.candidates.push_back(std::move(c));
    }
    for (const store::RealizedAccuracy& a : realized) {
      if (a.origin_region == r->origin_region) s.realized = a;
    }
    report.series.push_back(std::move(s));
  }
  return report;
}

}  // namespace shadowplane::forecast
