// A forecasting model of an hourly demand series: fitted to the history (oldest first, one value
// per hour, every value finite; hours without events are zeros), then asked for the next hours.
// Implementations keep what they fitted, so that a refit can start from it (warm start) and a
// stored forecast can cite its parameters. Not thread-safe; one instance per series.
#ifndef SHADOWPLANE_FORECAST_FORECAST_MODEL_H_
#define SHADOWPLANE_FORECAST_FORECAST_MODEL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace shadowplane::forecast {

class ForecastModel {
 public:
  virtual ~ForecastModel() = default;

  // A short stable name ("hw_add_damped_24", "seasonal_naive_168", ...).
  virtual std::string name() const = 0;
  // The fewest hours Fit accepts.
  virtual int min_history() const = 0;
  // FAILED_PRECONDITION when the history is shorter than min_history(); INVALID_ARGUMENT for a
  // value that is not finite; INTERNAL when the fit diverged (the model is then unusable).
  virtual absl::Status Fit(absl::Span<const double> history) = 0;
  // `horizon` hours after the history's last; every value finite. Only after a successful Fit.
  virtual std::vector<double> Forecast(int horizon) const = 0;
  // Moves the fitted state on by one observed hour (finite), keeping the parameters: the next
  // Forecast starts an hour later. Only after a successful Fit or Update. What rolling-origin
  // backtests step with.
  virtual void Observe(double value) = 0;
  // The fitted parameters, in the model's own order (empty for models without any).
  virtual std::vector<double> parameters() const = 0;
  // Runs the model over `history` with the parameters it already has (from Fit or WarmStart)
  // instead of searching for new ones: a cheap update when hours were added since the fit. Fits
  // when it has no parameters yet. Same errors as Fit.
  virtual absl::Status Update(absl::Span<const double> history) = 0;
  // Starts the next Fit's search (or Update) from a previous fit of the model named `model`;
  // ignored when that is not this model (or one of its candidates) or the parameters do not fit.
  virtual void WarmStart(const std::string& model, const std::vector<double>& parameters) = 0;
};

// INVALID_ARGUMENT naming the first value that is NaN or infinite.
absl::Status CheckFinite(absl::Span<const double> history);

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_FORECAST_MODEL_H_
