#include "api/forecast_service.h"

#include "common/grpc_unary.h"

namespace shadowplane::api {

grpc::ServerUnaryReactor* ForecastService::Predict(grpc::CallbackServerContext* context,
                                                   const shadowplane::v1::PredictRequest* request,
                                                   shadowplane::v1::PredictResponse* response) {
  return FinishOnPool(context, workers_, [this, request, response]() {
    return predictor_->Predict(*request, response);
  });
}

grpc::ServerUnaryReactor* ForecastService::Backtest(grpc::CallbackServerContext* context,
                                                    const shadowplane::v1::BacktestRequest* request,
                                                    shadowplane::v1::BacktestResponse* response) {
  return FinishOnPool(context, workers_, [this, request, response]() {
    return predictor_->Backtest(*request, response);
  });
}

}  // namespace shadowplane::api
