#include "forecast/tail_choice.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace shadowplane::forecast {

TailChoice::TailChoice(std::vector<std::unique_ptr<ForecastModel>> candidates, int holdout)
    : candidates_(std::move(candidates)), holdout_(holdout) {}

std::string TailChoice::name() const { return chosen_ ? chosen_->name() : "tail_choice"; }

int TailChoice::min_history() const {
  int fewest = std::numeric_limits<int>::max();
  for (const auto& c : candidates_) fewest = std::min(fewest, c->min_history());
  return fewest;
}

absl::Status TailChoice::Fit(absl::Span<const double> y) {
  chosen_ = nullptr;
  holdout_mae_ = std::numeric_limits<double>::quiet_NaN();
  if (absl::Status s = CheckFinite(y); !s.ok()) return s;
  // Candidates scored on the held-out hours, best first.
  std::vector<std::pair<double, ForecastModel*>> scored;
  const int head = static_cast<int>(y.size()) - holdout_;
  for (const auto& c : candidates_) {
    if (head < c->min_history() || !c->Fit(y.first(head)).ok()) continue;
    const std::vector<double> f = c->Forecast(holdout_);
    double error = 0;
    for (int h = 0; h < holdout_; ++h) error += std::abs(y[head + h] - f[h]);
    if (std::isfinite(error)) scored.emplace_back(error / holdout_, c.get());
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  absl::Status last = absl::FailedPreconditionError(
      absl::StrCat("no candidate model accepts ", y.size(), " hours of history"));
  for (const auto& [mae, c] : scored) {
    last = c->Update(y);
    if (last.ok()) {
      chosen_ = c;
      holdout_mae_ = mae;
      return absl::OkStatus();
    }
  }
  if (!scored.empty()) return last;
  for (const auto& c : candidates_) {  // too short for any contest
    if (static_cast<int>(y.size()) < c->min_history()) continue;
    last = c->Fit(y);
    if (last.ok()) {
      chosen_ = c.get();
      return absl::OkStatus();
    }
  }
  return last;
}

absl::Status TailChoice::Update(absl::Span<const double> y) {
  if (chosen_ == nullptr) return Fit(y);
  return chosen_->Update(y);
}

std::vector<double> TailChoice::Forecast(int horizon) const { return chosen_->Forecast(horizon); }

std::vector<double> TailChoice::parameters() const {
  return chosen_ ? chosen_->parameters() : std::vector<double>{};
}

void TailChoice::WarmStart(const std::string& model, const std::vector<double>& parameters) {
  for (const auto& c : candidates_) c->WarmStart(model, parameters);
}

}  // namespace shadowplane::forecast
