// shadowctl's commands for demand, forecasts and their backtests.
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/command.h"
#include "cli/command_context.h"
#include "cli/table.h"

namespace shadowplane::cli {

namespace {

class ForecastCommands : public CommandContext {
 public:
  explicit ForecastCommands(const CommandContext& context) : CommandContext(context) {}

  // Rows are hours (or days), columns the origin regions' request counts, then the total and
  // the distinct clients of all regions together.
  int GetDemand(const std::string& resource_id) {
    pb::GetDemandRequest request;
    request.set_resource_id(resource_id);
    for (const bool from : {true, false}) {
      const std::string& text = from ? options_.from : options_.to;
      if (text.empty()) continue;
      google::protobuf::Timestamp t;
      if (!google::protobuf::util::TimeUtil::FromString(text, &t)) {
        err_ << "shadowctl: --from and --to take RFC 3339 times (2026-11-29T18:00:00Z), got \""
             << text << "\"\n";
        return kExitUsage;
      }
      *(from ? request.mutable_from() : request.mutable_to()) = t;
    }
    if (options_.granularity == "day") {
      request.set_granularity(pb::GRANULARITY_DAY);
    } else if (options_.granularity.empty() || options_.granularity == "hour") {
      request.set_granularity(pb::GRANULARITY_HOUR);
    } else {
      err_ << "shadowctl: --granularity is hour or day, got \"" << options_.granularity << "\"\n";
      return kExitUsage;
    }
    pb::GetDemandResponse response;
    grpc::Status status = telemetry_->GetDemand(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(response), kExitOk;
    std::vector<std::string> headers = {
        request.granularity() == pb::GRANULARITY_DAY ? "day (utc)" : "hour (utc)"};
    for (const auto& r : response.regions()) headers.push_back(r.origin_region());
    headers.push_back("total");
    headers.push_back("clients");
    headers.push_back("mb out");
    Table table(headers);
    for (int i = 0; i < response.total().points_size(); ++i) {
      const pb::DemandPoint& total = response.total().points(i);
      std::vector<std::string> row = {absl::FormatTime(
          "%Y-%m-%d %H:%M", absl::FromUnixSeconds(total.start().seconds()), absl::UTCTimeZone())};
      for (const auto& r : response.regions()) row.push_back(absl::StrCat(r.points(i).requests()));
      row.push_back(absl::StrCat(total.requests()));
      row.push_back(absl::StrFormat("%.0f", total.distinct_clients()));
      row.push_back(absl::StrFormat("%.1f", total.bytes_out() / 1e6));
      table.AddRow(std::move(row));
    }
    out_ << table.Render();
    return kExitOk;
  }

  // A header naming each series' model (and fallback), then rows of hours with the forecast
  // requests per origin region and in total.
  int Predict(const std::string& resource_id) {
    pb::PredictRequest request;
    request.set_resource_id(resource_id);
    if (options_.horizon != 0) request.set_horizon_hours(options_.horizon);
    request.set_refresh(options_.refresh);
    pb::PredictResponse response;
    grpc::Status status = forecasts_->Predict(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(response), kExitOk;
    const auto time = TimeText;
    out_ << "resource " << response.resource_id() << ": " << response.horizon_hours()
         << " hours from " << time(response.first_hour()) << " UTC, computed "
         << time(response.computed_at()) << (response.computed_now() ? " (now)" : "") << "\n";
    Table models({"series", "method", "models", "history h", "backtest smape",
                  "realized smape (7d)", "80% / 95% hit", "forecast id", "note"});
    std::vector<const pb::SeriesForecast*> series;
    for (const auto& r : response.regions()) series.push_back(&r);
    series.push_back(&response.total());
    for (const pb::SeriesForecast* s : series) {
      std::vector<std::string> weighted;
      for (int i = 0; i < s->models_size(); ++i) {
        weighted.push_back(s->weights_size() > i && s->models_size() > 1
                               ? absl::StrFormat("%s %.2f", s->models(i), s->weights(i))
                               : s->models(i));
      }
      const pb::RealizedAccuracy& realized = s->realized();
      models.AddRow(
          {s->origin_region(), s->method(), absl::StrJoin(weighted, ", "),
           absl::StrCat(s->history_hours()),
           s->backtest_origins() > 0 ? absl::StrFormat("%.1f%%", s->backtest().smape()) : "-",
           realized.forecasts() > 0
               ? absl::StrFormat("%.1f%% (%d)", realized.mean_smape(), realized.forecasts())
               : "-",
           realized.forecasts() > 0
               ? absl::StrFormat("%.0f%% / %.0f%%", 100 * realized.coverage_80(),
                                 100 * realized.coverage_95())
               : "-",
           absl::StrCat(s->forecast_id()),
           s->fallback_reason().empty() ? s->selection_note() : s->fallback_reason()});
    }
    out_ << models.Render() << "\n";
    if (response.events_size() > 0) {
      Table events({"event", "kind", "name", "from", "to", "regions", "uplift", "from what"});
      for (const pb::AppliedEvent& e : response.events()) {
        events.AddRow({e.event_id(), e.kind(), e.name(), time(e.start_time()), time(e.end_time()),
                       e.regions().empty() ? "all" : absl::StrJoin(e.regions(), ","),
                       absl::StrFormat("x%.2f", e.uplift()),
                       e.outcomes() > 0
                           ? absl::StrFormat("%s (%d)", e.uplift_source(), e.outcomes())
                           : e.uplift_source()});
      }
      out_ << "known events (applied to the values below):\n" << events.Render() << "\n";
    }
    // Each cell: the point forecast and its 80% interval (quantiles 0.1 and 0.9) when asked for.
    std::vector<std::string> headers = {"hour (utc)"};
    for (const pb::SeriesForecast* s : series) headers.push_back(s->origin_region() + " [80%]");
    Table table(headers);
    const absl::Time first = absl::FromUnixSeconds(response.first_hour().seconds());
    auto level = [](const pb::SeriesForecast* s, double q) -> const pb::QuantileForecast* {
      for (const auto& quantile : s->quantiles()) {
        if (std::abs(quantile.level() - q) < 1e-9) return &quantile;
      }
      return nullptr;
    };
    for (int h = 0; h < response.horizon_hours(); ++h) {
      std::vector<std::string> row = {
          absl::FormatTime("%Y-%m-%d %H:%M", first + absl::Hours(h), absl::UTCTimeZone())};
      for (const pb::SeriesForecast* s : series) {
        if (h >= s->values_size()) {
          row.push_back("");
          continue;
        }
        const pb::QuantileForecast *lo = level(s, 0.1), *hi = level(s, 0.9);
        row.push_back(
            lo != nullptr && hi != nullptr && h < lo->values_size() && h < hi->values_size()
                ? absl::StrFormat("%.1f [%.1f-%.1f]", s->values(h), lo->values(h), hi->values(h))
                : absl::StrFormat("%.1f", s->values(h)));
      }
      table.AddRow(std::move(row));
    }
    out_ << table.Render();
    return kExitOk;
  }

  // Per series: how its forecast was chosen, then every candidate's backtest accuracy.
  int Backtest(const std::string& resource_id) {
    pb::BacktestRequest request;
    request.set_resource_id(resource_id);
    pb::BacktestResponse response;
    grpc::Status status = forecasts_->Backtest(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(response), kExitOk;
    Table table({"series", "model", "weight", "backtest smape", "backtest mase", "origins"});
    for (const pb::SeriesBacktest& s : response.series()) {
      table.AddRow({s.origin_region(), absl::StrCat("forecast (", s.method(), ")"), "",
                    s.origins() > 0 ? absl::StrFormat("%.2f%%", s.forecast().smape()) : "-",
                    s.origins() > 0 ? absl::StrFormat("%.3f", s.forecast().mase()) : "-",
                    absl::StrCat(s.origins())});
      for (const pb::ModelAccuracy& c : s.candidates()) {
        std::string weight;
        for (int i = 0; i < s.models_size(); ++i) {
          if (s.models(i) == c.model() && i < s.weights_size()) {
            weight = absl::StrFormat("%.2f", s.weights(i));
          }
        }
        table.AddRow({"", c.model(), weight, absl::StrFormat("%.2f%%", c.smape()),
                      absl::StrFormat("%.3f", c.mase()), ""});
      }
      if (s.realized().forecasts() > 0) {
        table.AddRow({"", absl::StrCat("realized, ", s.realized().forecasts(), " forecasts"), "",
                      absl::StrFormat("%.2f%%", s.realized().mean_smape()),
                      absl::StrFormat("%.3f", s.realized().mean_mase()), ""});
      }
      if (!s.selection_note().empty()) table.AddRow({"", s.selection_note(), "", "", "", ""});
    }
    out_ << table.Render();
    return kExitOk;
  }
};

}  // namespace

void AddForecastCommands(CommandTable* table) {
  table->push_back({{"demand"},
                    {"RESOURCE_ID"},
                    "[--from=T] [--to=T] [--granularity=hour|day]",
                    "requests per origin region (default: the last 48 hours; T in RFC 3339, e.g. "
                    "2026-11-29T18:00:00Z)",
                    CallWith<ForecastCommands, &ForecastCommands::GetDemand>});
  table->push_back({{"predict"},
                    {"RESOURCE_ID"},
                    "[--horizon=HOURS] [--refresh]",
                    "forecast requests per hour, per origin region and in total, with 80% "
                    "intervals and accuracy (default 48 hours; --refresh: compute now)",
                    CallWith<ForecastCommands, &ForecastCommands::Predict>});
  table->push_back({{"backtest"},
                    {"RESOURCE_ID"},
                    "",
                    "how each series' forecast was chosen: every candidate model's backtest "
                    "accuracy, and past forecasts' accuracy",
                    CallWith<ForecastCommands, &ForecastCommands::Backtest>});
}

}  // namespace shadowplane::cli
