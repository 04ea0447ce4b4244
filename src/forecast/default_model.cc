#include "forecast/default_model.h"

#include <vector>

#include "forecast/double_seasonal.h"
#include "forecast/holt_winters.h"
#include "forecast/level_only.h"
#include "forecast/seasonal_naive.h"
#include "forecast/tail_choice.h"

namespace shadowplane::forecast {

std::unique_ptr<ForecastModel> MakeDefaultModel(int history_hours) {
  std::vector<std::unique_ptr<ForecastModel>> candidates;
  if (history_hours >= 2 * DoubleSeasonal::kWeek + kChoiceHoldoutHours) {
    candidates.push_back(std::make_unique<DoubleSeasonal>(kDefaultMaxLevelSmoothing));
    candidates.push_back(std::make_unique<SeasonalNaive>(24));
    candidates.push_back(std::make_unique<SeasonalNaive>(168));
  } else if (history_hours >= 2 * 24) {
    candidates.push_back(std::make_unique<HoltWinters>(HoltWintersOptions{}));
    candidates.push_back(std::make_unique<SeasonalNaive>(24));
  } else {
    return std::make_unique<LevelOnly>();
  }
  return std::make_unique<TailChoice>(std::move(candidates), kChoiceHoldoutHours);
}

std::unique_ptr<ForecastModel> MakeFallbackModel(int history_hours) {
  if (history_hours >= 24) return std::make_unique<SeasonalNaive>(24);
  return std::make_unique<LevelOnly>();
}

}  // namespace shadowplane::forecast
