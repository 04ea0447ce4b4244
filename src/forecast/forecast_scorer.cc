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

namespace shadowplane::forecast {

namespace {
// The history MASE's scale comes from.
constexpr absl::Duration kScaleHistory = absl::Hours(24 * 14);
}  // namespace

ForecastScorer::ForecastScorer(store::ForecastRepository* forecasts,
                               store::TelemetryRepository* telemetry, const Clock* clock,
                               ScorerOptions options, prometheus::Registry* registry)
    : forecasts_(forecasts), telemetry_(telemetry), clock_(clock), options_(options) {
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
    for (const store::UnscoredForecast* u : forecasts) {
      const std::vector<double>* series = &history.total;
      const std::vector<double> none(history.total.size(), 0.0);
      if (u->origin_region != "total") {
        auto it = history.regions.find(u->origin_region);
        series = it != history.regions.end() ? &it->second : &none;
      }
      const int start = static_cast<int>((u->first_hour - from) / absl::Hours(1));
      const int n = std::min<int>(hours, u->values.size());
      if (n <= 0 || start < 0 || start + n > static_cast<int>(series->size())) continue;
      const absl::Span<const double> actual = absl::MakeConstSpan(*series).subspan(start, n);
      const absl::Span<const double> point = absl::MakeConstSpan(u->values).first(n);
      // MASE's scale: the two weeks before, or what of them the resource had.
      const absl::Span<const double> before = absl::MakeConstSpan(*series).first(start).last(
          std::min(start, std::max(0, u->history_hours)));
      const Accuracy a = Score(actual, point, SeasonalScale(before));
      ErrorProfile profile;
      profile.lead_scale = u->lead_scale;
      profile.unit_quantiles = u->unit_quantiles;
      const std::vector<double> lo80 = QuantileSeries(profile, point, 0, 0.1, options_.intervals),
                                hi80 = QuantileSeries(profile, point, 0, 0.9, options_.intervals),
                                lo95 = QuantileSeries(profile, point, 0, 0.025, options_.intervals),
                                hi95 = QuantileSeries(profile, point, 0, 0.975, options_.intervals);
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
  RETURN_IF_ERROR(forecasts_->RecordScores(scores, now));
  if (scored_ != nullptr) scored_->Increment(static_cast<double>(scores.size()));
  if (!scores.empty()) {
    LOG_EVENT(kInfo, "forecasts scored").Field("forecasts", static_cast<int64_t>(scores.size()));
  }
  return static_cast<int>(scores.size());
}

}  // namespace shadowplane::forecast
