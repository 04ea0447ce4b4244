#include "forecast/predictor.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "store/uuid.h"

namespace shadowplane::forecast {

namespace pb = shadowplane::v1;

namespace {

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

void ToProto(const store::ForecastRecord& r, absl::Time hour, int horizon,
             pb::SeriesForecast* out) {
  out->set_origin_region(r.origin_region);
  out->set_model(r.model);
  for (double p : r.parameters) out->add_parameters(p);
  const int64_t offset = (hour - r.first_hour) / absl::Hours(1);
  for (int h = 0; h < horizon; ++h) out->add_values(r.values[offset + h]);
  out->set_history_hours(r.history_hours);
  out->set_fallback_reason(r.fallback_reason);
  out->set_forecast_id(r.id);
}

}  // namespace

Predictor::Predictor(Forecaster* forecaster, store::ForecastRepository* forecasts,
                     store::TelemetryRepository* telemetry, const Clock* clock,
                     PredictorOptions options, prometheus::Registry* registry)
    : forecaster_(forecaster),
      forecasts_(forecasts),
      telemetry_(telemetry),
      clock_(clock),
      options_(options) {
  if (registry == nullptr) return;
  predictions_ =
      &prometheus::BuildCounter()
           .Name("shadowplane_forecast_predictions_total")
           .Help("Predict answers, by whether the forecast was stored or computed for it")
           .Register(*registry);
}

absl::Status Predictor::Predict(const pb::PredictRequest& request, pb::PredictResponse* response) {
  const std::string& id = request.resource_id();
  if (id.empty()) return absl::InvalidArgumentError("resource_id is required");
  if (!store::LooksLikeUuid(id)) {
    return absl::InvalidArgumentError(absl::StrCat("resource_id \"", id, "\" is not a UUID"));
  }
  const int horizon = request.has_horizon_hours() ? request.horizon_hours() : kDefaultHorizonHours;
  if (horizon <= 0 || horizon > options_.max_horizon_hours) {
    return absl::InvalidArgumentError(absl::StrCat("horizon_hours must be within [1, ",
                                                   options_.max_horizon_hours,
                                                   "] (--max_horizon_hours), got ", horizon));
  }
  ASSIGN_OR_RETURN(const bool exists, telemetry_->ResourceExists(id));
  if (!exists) return absl::NotFoundError(absl::StrCat("resource ", id, " not found"));

  const absl::Time hour =
      absl::UnixEpoch() + absl::Floor(clock_->Now() - absl::UnixEpoch(), absl::Hours(1));
  ASSIGN_OR_RETURN(std::vector<store::ForecastRecord> records, forecasts_->Latest(id));
  const bool compute = request.refresh() || !Covers(records, hour, horizon);
  if (compute) {
    ASSIGN_OR_RETURN(std::vector<store::ForecastRecord> fresh,
                     forecaster_->Compute(id, records, absl::Now() + options_.compute_deadline));
    RETURN_IF_ERROR(forecasts_->Append(fresh));
    records = std::move(fresh);
  }
  if (predictions_ != nullptr) {
    predictions_->Add({{"source", compute ? "computed" : "stored"}}).Increment();
  }
  response->set_resource_id(id);
  *response->mutable_first_hour() = ToProtoTime(hour);
  response->set_horizon_hours(horizon);
  response->set_computed_now(compute);
  for (const store::ForecastRecord& r : records) {
    *response->mutable_computed_at() = ToProtoTime(r.computed_at);
    ToProto(r, hour, horizon,
            r.origin_region == "total" ? response->mutable_total() : response->add_regions());
  }
  return absl::OkStatus();
}

}  // namespace shadowplane::forecast
