#include "api/forecast_service.h"

#include "api/forecast_mapping.h"
#include "common/grpc_unary.h"
#include "common/status_macros.h"

namespace shadowplane::api {

namespace pb = shadowplane::v1;

grpc::ServerUnaryReactor* ForecastService::Predict(grpc::CallbackServerContext* context,
                                                   const pb::PredictRequest* request,
                                                   pb::PredictResponse* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    ASSIGN_OR_RETURN(const forecast::Prediction prediction,
                     predictor_->Predict(FromProto(*request)));
    ToProto(prediction, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ForecastService::Backtest(grpc::CallbackServerContext* context,
                                                    const pb::BacktestRequest* request,
                                                    pb::BacktestResponse* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    ASSIGN_OR_RETURN(const forecast::BacktestReport report,
                     predictor_->Backtest(FromProto(*request)));
    ToProto(report, response);
    return absl::OkStatus();
  });
}

}  // namespace shadowplane::api
