// shadowplane.v1.ForecastService messages <-> forecast::Predictor's structs
// (forecast/prediction.h).
#ifndef SHADOWPLANE_API_FORECAST_MAPPING_H_
#define SHADOWPLANE_API_FORECAST_MAPPING_H_

#include "forecast/prediction.h"
#include "shadowplane/v1/forecast.pb.h"

namespace shadowplane::api {

forecast::PredictQuery FromProto(const shadowplane::v1::PredictRequest& request);
forecast::BacktestQuery FromProto(const shadowplane::v1::BacktestRequest& request);

void ToProto(const forecast::Prediction& prediction, shadowplane::v1::PredictResponse* out);
void ToProto(const forecast::BacktestReport& report, shadowplane::v1::BacktestResponse* out);

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_FORECAST_MAPPING_H_
