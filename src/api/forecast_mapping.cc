#include "api/forecast_mapping.h"

#include "common/proto_time.h"

namespace shadowplane::api {

namespace pb = shadowplane::v1;

namespace {

void ToProto(const forecast::ModelAccuracy& a, pb::ModelAccuracy* out) {
  out->set_model(a.model);
  out->set_smape(a.smape);
  out->set_mase(a.mase);
}

void ToProto(const store::RealizedAccuracy& a, pb::RealizedAccuracy* out) {
  out->set_forecasts(a.forecasts);
  out->set_mean_smape(a.mean_smape);
  out->set_mean_mase(a.mean_mase);
  out->set_coverage_80(a.coverage_80);
  out->set_coverage_95(a.coverage_95);
}

void ToProto(const forecast::SeriesPrediction& s, pb::SeriesForecast* out) {
  out->set_origin_region(s.origin_region);
  out->set_model(s.model);
  out->mutable_parameters()->Add(s.parameters.begin(), s.parameters.end());
  out->mutable_values()->Add(s.values.begin(), s.values.end());
  out->mutable_baseline_values()->Add(s.baseline_values.begin(), s.baseline_values.end());
  out->set_history_hours(s.history_hours);
  out->set_fallback_reason(s.fallback_reason);
  out->set_forecast_id(s.forecast_id);
  out->set_method(s.method);
  for (const std::string& m : s.models) out->add_models(m);
  out->mutable_weights()->Add(s.weights.begin(), s.weights.end());
  out->set_selection_note(s.selection_note);
  for (const forecast::QuantileValues& q : s.quantiles) {
    pb::QuantileForecast* series = out->add_quantiles();
    series->set_level(q.level);
    series->mutable_values()->Add(q.values.begin(), q.values.end());
  }
  if (s.backtest.has_value()) ToProto(*s.backtest, out->mutable_backtest());
  out->set_backtest_origins(s.backtest_origins);
  out->mutable_sample_paths()->Add(s.sample_paths.begin(), s.sample_paths.end());
  if (s.realized.has_value()) ToProto(*s.realized, out->mutable_realized());
}

void ToProto(const forecast::ResolvedEvent& e, pb::AppliedEvent* out) {
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

forecast::PredictQuery FromProto(const pb::PredictRequest& request) {
  forecast::PredictQuery query;
  query.resource_id = request.resource_id();
  if (request.has_horizon_hours()) query.horizon_hours = request.horizon_hours();
  query.refresh = request.refresh();
  query.quantiles.assign(request.quantiles().begin(), request.quantiles().end());
  query.sample_paths = request.sample_paths();
  query.best_location = request.best_location();
  return query;
}

forecast::BacktestQuery FromProto(const pb::BacktestRequest& request) {
  forecast::BacktestQuery query;
  query.resource_id = request.resource_id();
  if (request.has_realized_days()) query.realized_days = request.realized_days();
  return query;
}

void ToProto(const forecast::Prediction& p, pb::PredictResponse* out) {
  out->set_resource_id(p.resource_id);
  *out->mutable_first_hour() = ToProtoTime(p.first_hour);
  out->set_horizon_hours(p.horizon_hours);
  if (p.computed_at != absl::Time()) *out->mutable_computed_at() = ToProtoTime(p.computed_at);
  out->set_computed_now(p.computed_now);
  for (const forecast::SeriesPrediction& r : p.regions) ToProto(r, out->add_regions());
  if (!p.total.origin_region.empty()) ToProto(p.total, out->mutable_total());
  out->set_sample_paths(p.sample_paths);
  out->set_paths_hours(p.paths_hours);
  out->set_best_location_now(p.best_location_now);
  for (const forecast::LocationProbability& l : p.best_location) {
    pb::LocationProbability* location = out->add_best_location();
    location->set_location(l.location);
    location->mutable_probability()->Add(l.probability.begin(), l.probability.end());
  }
  for (const forecast::ResolvedEvent& e : p.events) ToProto(e, out->add_events());
}

void ToProto(const forecast::BacktestReport& report, pb::BacktestResponse* out) {
  out->set_resource_id(report.resource_id);
  *out->mutable_computed_at() = ToProtoTime(report.computed_at);
  for (const forecast::SeriesBacktest& s : report.series) {
    pb::SeriesBacktest* series = out->add_series();
    series->set_origin_region(s.origin_region);
    series->set_method(s.method);
    for (const std::string& m : s.models) series->add_models(m);
    series->mutable_weights()->Add(s.weights.begin(), s.weights.end());
    series->set_selection_note(s.selection_note);
    series->set_origins(s.origins);
    if (s.forecast.has_value()) ToProto(*s.forecast, series->mutable_forecast());
    for (const forecast::ModelAccuracy& c : s.candidates) ToProto(c, series->add_candidates());
    if (s.realized.has_value()) ToProto(*s.realized, series->mutable_realized());
  }
}

}  // namespace shadowplane::api
