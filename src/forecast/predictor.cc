#include "forecast/predictor.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "forecast/demand_history.h"
#include "forecast/event_effects.h"
#include "forecast/intervals.h"
#include "forecast/location_outlook.h"
#include "store/uuid.h"

namespace shadowplane::forecast {

namespace pb = shadowplane::v1;

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

void ToProto(const store::RealizedAccuracy& a, pb::RealizedAccuracy* out) {
  out->set_forecasts(a.forecasts);
  out->set_mean_smape(a.mean_smape);
  out->set_mean_mase(a.mean_mase);
  out->set_coverage_80(a.coverage_80);
  out->set_coverage_95(a.coverage_95);
}

// The served hours of a record's point forecast.
std::vector<double> Served(const store::ForecastRecord& r, absl::Time hour, int horizon) {
  const int offset = static_cast<int>((hour - r.first_hour) / absl::Hours(1));
  const absl::Span<const double> point = absl::MakeConstSpan(r.values).subspan(offset, horizon);
  return std::vector<double>(point.begin(), point.end());
}

// `adjusted`: the served hours with known events applied, or null when none changes them.
void ToProto(const store::ForecastRecord& r, absl::Time hour, int horizon,
             const std::vector<double>& quantiles, const std::vector<double>* adjusted,
             pb::SeriesForecast* out) {
  out->set_origin_region(r.origin_region);
  out->set_model(r.model);
  for (double p : r.parameters) out->add_parameters(p);
  const int offset = static_cast<int>((hour - r.first_hour) / absl::Hours(1));
  const std::vector<double> point = Served(r, hour, horizon);
  if (adjusted != nullptr) {
    out->mutable_values()->Add(adjusted->begin(), adjusted->end());
    out->mutable_baseline_values()->Add(point.begin(), point.end());
  } else {
    out->mutable_values()->Add(point.begin(), point.end());
  }
  out->set_history_hours(r.history_hours);
  out->set_fallback_reason(r.fallback_reason);
  out->set_forecast_id(r.id);
  out->set_method(r.method);
  for (const std::string& m : r.models) out->add_models(m);
  out->mutable_weights()->Add(r.weights.begin(), r.weights.end());
  out->set_selection_note(r.selection_note);
  const ErrorProfile profile = ProfileOf(r);
  for (double q : quantiles) {
    pb::QuantileForecast* series = out->add_quantiles();
    series->set_level(q);
    std::vector<double> values = QuantileSeries(profile, point, offset, q);
    if (adjusted != nullptr) ScaleLikePoint(point, *adjusted, values);
    series->mutable_values()->Add(values.begin(), values.end());
  }
  if (r.backtest_origins > 0) {
    out->mutable_backtest()->set_model(r.model);
    out->mutable_backtest()->set_smape(r.backtest_smape);
    out->mutable_backtest()->set_mase(r.backtest_mase);
  }
  out->set_backtest_origins(r.backtest_origins);
}

void ToProto(const ResolvedEvent& e, pb::AppliedEvent* out) {
  out->set_event_id(e.record.id);
  out->set_kind(e.record.kind);
  out->set_name(e.record.name);
  *out->mutable_start_time() = ToProtoTime(e.record.starts_at);
  *out->mutable_end_time() = ToProtoTime(e.record.ends_at);
  for (const std::string& r : e.record.regions) out->add_regions(r);
  out->set_uplift(e.effect.uplift);
  out->set_uplift_source(e.uplift_source);
  out->set_outcomes(e.outcomes);
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

absl::Status Predictor::Predict(const pb::PredictRequest& request, pb::PredictResponse* response) {
  const std::string& id = request.resource_id();
  if (id.empty()) return absl::InvalidArgumentError("resource_id is required");
  const int horizon = request.has_horizon_hours() ? request.horizon_hours() : kDefaultHorizonHours;
  if (horizon <= 0 || horizon > options_.max_horizon_hours) {
    return absl::InvalidArgumentError(absl::StrCat("horizon_hours must be within [1, ",
                                                   options_.max_horizon_hours,
                                                   "] (--max_horizon_hours), got ", horizon));
  }
  std::vector<double> quantiles(request.quantiles().begin(), request.quantiles().end());
  if (quantiles.empty()) quantiles = kDefaultQuantiles;
  if (absl::Status s = CheckQuantiles(quantiles); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("quantiles: ", s.message()));
  }
  const int max_paths = forecaster_->options().sample_paths;
  if (request.sample_paths() < 0 || request.sample_paths() > max_paths) {
    return absl::InvalidArgumentError(absl::StrCat("sample_paths must be within [0, ", max_paths,
                                                   "] (--sample_paths), got ",
                                                   request.sample_paths()));
  }
  RETURN_IF_ERROR(CheckResource(id));

  const absl::Time hour = FloorHour(clock_->Now());
  ASSIGN_OR_RETURN(std::vector<store::ForecastRecord> records, forecasts_->Latest(id));
  const bool compute = request.refresh() || !Covers(records, hour, horizon);
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
  response->set_resource_id(id);
  *response->mutable_first_hour() = ToProtoTime(hour);
  response->set_horizon_hours(horizon);
  response->set_computed_now(compute);
  // Known events over the served hours: applied to every series, listed when they change one.
  SeriesSet served;
  served.first_hour = hour;
  for (const store::ForecastRecord& r : records) {
    served.names.push_back(r.origin_region);
    served.values.push_back(Served(r, hour, horizon));
  }
  std::vector<DemandEvent> effects;
  if (known_events_ != nullptr) {
    ASSIGN_OR_RETURN(const std::vector<ResolvedEvent> events,
                     known_events_->ForForecast(id, hour, hour + absl::Hours(horizon)));
    for (const ResolvedEvent& e : events) {
      if (!AnyEffect({e.effect}, served)) continue;
      effects.push_back(e.effect);
      ToProto(e, response->add_events());
    }
  }
  const std::vector<std::vector<double>> adjusted = ApplyEventEffects(effects, served);
  std::map<std::string, pb::SeriesForecast*> by_region;
  for (size_t i = 0; i < records.size(); ++i) {
    const store::ForecastRecord& r = records[i];
    *response->mutable_computed_at() = ToProtoTime(r.computed_at);
    pb::SeriesForecast* series =
        r.origin_region == "total" ? response->mutable_total() : response->add_regions();
    const bool changed = adjusted[i] != served.values[i];
    ToProto(r, hour, horizon, quantiles, changed ? &adjusted[i] : nullptr, series);
    by_region[r.origin_region] = series;
  }
  for (const store::RealizedAccuracy& a : realized) {
    if (auto it = by_region.find(a.origin_region); it != by_region.end()) {
      ToProto(a, it->second->mutable_realized());
    }
  }
  if (request.best_location()) RETURN_IF_ERROR(AnswerBestLocation(id, hour, horizon, response));
  if (request.sample_paths() > 0 && !records.empty()) {
    absl::StatusOr<store::ForecastPathsRecord> paths = forecasts_->LatestPaths(id);
    // Only the paths of the computation being served.
    if (paths.ok() && paths->computed_at == records[0].computed_at) {
      const int offset = static_cast<int>((hour - paths->first_hour) / absl::Hours(1));
      const int hours = std::max(0, std::min(horizon, paths->horizon - offset));
      const int n = std::min(request.sample_paths(), paths->paths);
      response->set_sample_paths(hours > 0 ? n : 0);
      response->set_paths_hours(hours);
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
          for (double v : values[r]) it->second->add_sample_paths(static_cast<float>(v));
        }
      }
    } else if (!paths.ok() && !absl::IsNotFound(paths.status())) {
      return paths.status();
    }
  }
  return absl::OkStatus();
}

absl::Status Predictor::AnswerBestLocation(const std::string& id, absl::Time hour, int horizon,
                                           pb::PredictResponse* response) {
  if (locations_ == nullptr || reservations_ == nullptr) {
    return absl::UnimplementedError("best_location is not served here");
  }
  ASSIGN_OR_RETURN(const store::LocationCatalog catalog, locations_->LoadAll());
  ASSIGN_OR_RETURN(const std::string placement, reservations_->PlacementOfResource(id));
  ASSIGN_OR_RETURN(const std::vector<store::LocationRecord> candidates,
                   CandidateLocations(placement, catalog));
  const absl::Time from = hour - forecaster_->options().history;
  ASSIGN_OR_RETURN(const std::vector<store::DemandRow> rows, telemetry_->Requests(id, from, hour));
  ASSIGN_OR_RETURN(const LocationOutlook outlook,
                   OutlookFor(BuildHourlyHistory(rows, from, hour), candidates, catalog, horizon));
  response->set_best_location_now(outlook.best_now);
  for (size_t i = 0; i < outlook.locations.size(); ++i) {
    pb::LocationProbability* l = response->add_best_location();
    l->set_location(outlook.locations[i]);
    l->mutable_probability()->Add(outlook.probability[i].begin(), outlook.probability[i].end());
  }
  return absl::OkStatus();
}

absl::Status Predictor::Backtest(const pb::BacktestRequest& request,
                                 pb::BacktestResponse* response) {
  const std::string& id = request.resource_id();
  const int days = request.has_realized_days() ? request.realized_days() : 7;
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
  response->set_resource_id(id);
  *response->mutable_computed_at() = ToProtoTime(records[0].computed_at);
  std::vector<const store::ForecastRecord*> ordered;
  for (const auto& r : records) {
    if (r.origin_region != "total") ordered.push_back(&r);
  }
  for (const auto& r : records) {
    if (r.origin_region == "total") ordered.push_back(&r);
  }
  for (const store::ForecastRecord* r : ordered) {
    pb::SeriesBacktest* s = response->add_series();
    s->set_origin_region(r->origin_region);
    s->set_method(r->method);
    for (const std::string& m : r->models) s->add_models(m);
    s->mutable_weights()->Add(r->weights.begin(), r->weights.end());
    s->set_selection_note(r->selection_note);
    s->set_origins(r->backtest_origins);
    if (r->backtest_origins > 0) {
      s->mutable_forecast()->set_model(r->model);
      s->mutable_forecast()->set_smape(r->backtest_smape);
      s->mutable_forecast()->set_mase(r->backtest_mase);
    }
    for (size_t i = 0; i < r->candidate_models.size(); ++i) {
      pb::ModelAccuracy* c = s->add_candidates();
      c->set_model(r->candidate_models[i]);
      if (i < r->candidate_smape.size()) c->set_smape(r->candidate_smape[i]);
      if (i < r->candidate_mase.size()) c->set_mase(r->candidate_mase[i]);
    }
    for (const store::RealizedAccuracy& a : realized) {
      if (a.origin_region == r->origin_region) ToProto(a, s->mutable_realized());
    }
  }
  return absl::OkStatus();
}

}  // namespace shadowplane::forecast
