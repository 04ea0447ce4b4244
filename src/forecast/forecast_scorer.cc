#include "forecast/forecast_scorer.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <map>

#include "common/log.h"
#include "common/status_macros.h"
#include "forecast/backtest.h"
#include "forecast/demand_history.h"
#include "forecast/event_effects.h"

namespace shadowplane::forecast {

namespace {
// The history MASE's scale comes from.
constexpr absl::Duration kScaleHistory = absl::Hours(24 * 14);
}  // namespace

ForecastScorer::ForecastScorer(store::ForecastRepository* forecasts,
                               store::TelemetryRepository* telemetry, const Clock* clock,
                               ScorerOptions options, prometheus::Registry* registry,
                               KnownEvents* known_events)
    : forecasts_(forecasts),
      telemetry_(telemetry),
      clock_(clock),
      options_(options),
      known_events_(known_events) {
  if (registry == nullptr) return;
  smape_ = &prometheus::BuildHistogram()
                .Name("shadowplane_forecast_smape")
                .Help(
                    "sMAPE (percent) of scored forecasts over their first scored hours, one "
                    "observation per series")
                .Register(*registry)
                .Add({}, prometheus::Histogram::BucketBoundaries{5, 10, 15, 20, 30, 50, 75, 100,
                                                                 150, 200});
  auto& coverage = prometheus::BuildHistogram()
                       .Name("shadowplane_forecast_interval_coverage")
                       .Help("Share of a scored forecast's hours inside its interval, by level")
                       .Register(*registry);
  const prometheus::Histogram::BucketBoundaries shares{0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99};
  coverage_80_ = &coverage.Add({{"level", "80"}}, shares);
  coverage_95_ = &coverage.Add({{"level", "95"}}, shares);
  scored_ = &prometheus::BuildCounter()
                 .Name("shadowplane_forecasts_scored_total")
                 .Help("Stored forecasts scored against what happened")
                 .Register(*registry)
                 .Add({});
}

absl::StatusOr<int> ForecastScorer::RunOnce() {
  const absl::Time now = clock_->Now();
  const int hours = options_.score_hours;
  ASSIGN_OR_RETURN(std::vector<store::UnscoredForecast> due,
                   forecasts_->Unscored(now, hours, options_.max_per_pass));
  // One read of demand per resource, covering all its forecasts due.
  std::map<std::string, std::vector<const store::UnscoredForecast*>> by_resource;
  for (const store::UnscoredForecast& u : due) by_resource[u.resource_id].push_back(&u);
  std::vector<store::ForecastScore> scores;
  for (const auto& [resource, forecasts] : by_resource) {
    absl::Time first = absl::InfiniteFuture(), last = absl::InfinitePast();
    for (const store::UnscoredForecast* u : forecasts) {
      first = std::min(first, u->first_hour);
      last = std::max(last, u->first_hour);
    }
    const absl::Time from = first - kScaleHistory, to = last + absl::Hours(hours);
    ASSIGN_OR_RETURN(const std::vector<store::DemandRow> rows,
                     telemetry_->Requests(resource, from, to));
    const HourlyHistory history = BuildHourlyHistory(rows, from, to);
    // Each computation (its series share computed_at) is scored as Predict served it: with the
    // known events applied that were known when it was made.
    std::map<absl::Time, std::vector<const store::UnscoredForecast*>> computations;
    for (const store::UnscoredForecast* u : forecasts) computations[u->computed_at].push_back(u);
    for (const auto& [computed_at, series_of] : computations) {
      std::vector<std::vector<double>> served(series_of.size());
      SeriesSet set;
      set.first_hour = series_of[0]->first_hour;
      bool aligned = true;
      for (size_t i = 0; i < series_of.size(); ++i) {
        const store::UnscoredForecast* u = series_of[i];
        const int n = std::min<int>(hours, u->values.size());
        served[i].assign(u->values.begin(), u->values.begin() + std::max(0, n));
        set.names.push_back(u->origin_region);
        aligned = aligned && u->first_hour == set.first_hour;
      }
      set.values = served;
      if (known_events_ != nullptr && aligned) {
        ASSIGN_OR_RETURN(
            const std::vector<ResolvedEvent> events,
            known_events_->ForForecast(resource, set.first_hour,
                                       set.first_hour + absl::Hours(hours), computed_at));
        std::vector<DemandEvent> effects;
        for (const ResolvedEvent& e : events) effects.push_back(e.effect);
        served = ApplyEventEffects(effects, set);
      }
      for (size_t i = 0; i < series_of.size(); ++i) {
        const store::UnscoredForecast* u = series_of[i];
        const std::vector<double>* series = &history.total;
        const std::vector<double> none(history.total.size(), 0.0);
        if (u->origin_region != "total") {
          auto it = history.regions.find(u->origin_region);
          series = it != history.regions.end() ? &it->second : &none;
        }
        const int start = static_cast<int>((u->first_hour - from) / absl::Hours(1));
        const int n = static_cast<int>(served[i].size());
        if (n <= 0 || start < 0 || start + n > static_cast<int>(series->size())) continue;
        const absl::Span<const double> actual = absl::MakeConstSpan(*series).subspan(start, n);
        const absl::Span<const double> point = served[i];
        // MASE's scale: the two weeks before, or what of them the resource had.
        const absl::Span<const double> before = absl::MakeConstSpan(*series).first(start).last(
            std::min(start, std::max(0, u->history_hours)));
        const Accuracy a = Score(actual, point, SeasonalScale(before));
        ErrorProfile profile;
        profile.lead_scale = u->lead_scale;
        profile.unit_quantiles = u->unit_quantiles;
        // Intervals around the models' forecast, moved like the point forecast.
        auto quantile = [&](double q) {
          std::vector<double> v = QuantileSeries(profile, set.values[i], 0, q, options_.intervals);
          ScaleLikePoint(set.values[i], served[i], v);
          return v;
        };
        const std::vector<double> lo80 = quantile(0.1), hi80 = quantile(0.9),
                                  lo95 = quantile(0.025), hi95 = quantile(0.975);
        store::ForecastScore s;
        s.id = u->id;
        s.hours = n;
        s.smape = a.smape;
        s.mase = a.mase;
        for (int j = 0; j < n; ++j) {
          s.hits_80 += lo80[j] <= actual[j] && actual[j] <= hi80[j];
          s.hits_95 += lo95[j] <= actual[j] && actual[j] <= hi95[j];
        }
        scores.push_back(s);
        if (smape_ != nullptr) {
          smape_->Observe(s.smape);
          coverage_80_->Observe(static_cast<double>(s.hits_80) / n);
          coverage_95_->Observe(static_cast<double>(s.hits_95) / n);
        }
      }
    }
  }
  RETURN_IF_ERROR(forecasts_->RecordScores(scores, now));
  if (scored_ != nullptr) scored_->Increment(static_cast<double>(scores.size()));
  if (!scores.empty()) {
    LOG_EVENT(kInfo, "forecasts scored").Field("forecasts", static_cast<int64_t>(scores.size()));
  }
  return static_cast<int>(scores.size());
}

}  // namespace shadowplane::forecast
