// Chooses, per series, the candidate model that would have forecast the series' own last hours
// best: each candidate is fitted to the history without its last `holdout` hours and scored on them
// (mean absolute error); the winner is then run over the whole history with the parameters of that
// fit (ForecastModel::Update), so each candidate is searched once. Ties go to the earlier
// candidate. A history too short to hold out `holdout` hours for a candidate leaves it out of the
// contest; when none is left, the first candidate that fits the whole history is used.
//
// The "backtest choice" of bench/README.md: on M4 Hourly it beats each of its candidates alone.
// Not thread-safe; one instance per series.
#ifndef SHADOWPLANE_FORECAST_TAIL_CHOICE_H_
#define SHADOWPLANE_FORECAST_TAIL_CHOICE_H_

#include <memory>
#include <string>
#include <vector>

#include "forecast/forecast_model.h"

namespace shadowplane::forecast {

class TailChoice final : public ForecastModel {
 public:
  // `candidates` in order of preference; at least one.
  TailChoice(std::vector<std::unique_ptr<ForecastModel>> candidates, int holdout);

  // The chosen candidate's name once fitted ("tail_choice" before).
  std::string name() const override;
  // The fewest hours some candidate accepts.
  int min_history() const override;
  absl::Status Fit(absl::Span<const double> history) override;
  // Updates the chosen candidate; Fit when none was chosen yet.
  absl::Status Update(absl::Span<const double> history) override;
  std::vector<double> Forecast(int horizon) const override;
  void Observe(double value) override { chosen_->Observe(value); }
  // The chosen candidate's parameters.
  std::vector<double> parameters() const override;
  // Passed to every candidate: the one named `model` takes it.
  void WarmStart(const std::string& model, const std::vector<double>& parameters) override;

  // The chosen candidate's mean absolute error on the held-out hours (NaN when there was no
  // contest).
  double holdout_mae() const { return holdout_mae_; }

 private:
  const std::vector<std::unique_ptr<ForecastModel>> candidates_;
  const int holdout_;
  ForecastModel* chosen_ = nullptr;
  double holdout_mae_ = 0;
};

}  // namespace shadowplane::forecast

#endif  // SHADOWPLANE_FORECAST_TAIL_CHOICE_H_
