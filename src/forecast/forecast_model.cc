#include "forecast/forecast_model.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace shadowplane::forecast {

absl::Status CheckFinite(absl::Span<const double> history) {
  for (size_t i = 0; i < history.size(); ++i) {
    if (!std::isfinite(history[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("history value ", i, " is ", history[i], ", not a finite number"));
    }
  }
  return absl::OkStatus();
}

}  // namespace shadowplane::forecast
