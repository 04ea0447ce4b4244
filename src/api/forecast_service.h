// shadowplane.v1.ForecastService: thin handlers over forecast::Predictor.
#ifndef SHADOWPLANE_API_FORECAST_SERVICE_H_
#define SHADOWPLANE_API_FORECAST_SERVICE_H_

#include "common/worker_pool.h"
#include "forecast/predictor.h"
#include "shadowplane/v1/forecast.grpc.pb.h"

namespace shadowplane::api {

class ForecastService final : public shadowplane::v1::ForecastService::CallbackService {
 public:
  // Predict runs on `workers` (it reads the database and may fit models).
  ForecastService(forecast::Predictor* predictor, WorkerPool* workers)
      : predictor_(predictor), workers_(workers) {}

  grpc::ServerUnaryReactor* Predict(grpc::CallbackServerContext* context,
                                    const shadowplane::v1::PredictRequest* request,
                                    shadowplane::v1::PredictResponse* response) override;
  grpc::ServerUnaryReactor* Backtest(grpc::CallbackServerContext* context,
                                     const shadowplane::v1::BacktestRequest* request,
                                     shadowplane::v1::BacktestResponse* response) override;

 private:
  forecast::Predictor* const predictor_;
  WorkerPool* const workers_;
};

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_FORECAST_SERVICE_H_
