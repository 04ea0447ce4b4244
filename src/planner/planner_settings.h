// What an operator sets for the planner: per reservation (with global defaults) how sure it must
// be before it moves a resource, whether it may act at all, and the anti-flapping rules.
//
// A reservation's settings are the global defaults with the reservation's overrides laid over
// them (PlannerOverrides::ApplyTo). Validate() names the field of the first value it refuses, as
// INVALID_ARGUMENT.
#ifndef SHADOWPLANE_PLANNER_PLANNER_SETTINGS_H_
#define SHADOWPLANE_PLANNER_PLANNER_SETTINGS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shadowplane::planner {

enum class PlannerMode {
  kOff,        // not planned at all
  kRecommend,  // decide and record, never act
  kAuto,       // act on a decision to move
};

// "off", "recommend", "auto".
const char* PlannerModeName(PlannerMode mode);
bool ParsePlannerMode(absl::string_view text, PlannerMode* mode);

// A span of time in which no cutover may happen: [start, end).
struct BlackoutWindow {
  absl::Time start;
  absl::Time end;
};

struct AntiFlapping {
  // No planned move sooner than this after the last migration finished.
  absl::Duration min_dwell = absl::Hours(2);
  // At most this many migrations of one resource in any 24 hours.
  int max_moves_per_day = 4;
  // A candidate must beat the current location by max(relative × current cost, absolute), in
  // dollars over the horizon, after the move's own cost.
  double hysteresis_relative = 0.05;
  double hysteresis_absolute = 0.01;
  // No return to the location just left for this long ...
  absl::Duration return_cooldown = absl::Hours(6);
  // ... unless the expected saving is at least this multiple of the margin.
  double return_saving_multiple = 3;
};

struct PlannerSettings {
  PlannerMode mode = PlannerMode::kRecommend;
  // The share of the forecast's sample paths in which a move must pay for the planner to make it.
  double migration_threshold = 0.8;
  absl::Duration horizon = absl::Hours(24);
  AntiFlapping anti_flapping;
  // Empty: may move. Set: the resource stays there (and it must lie in the placement set).
  std::string pinned_location;
  std::vector<BlackoutWindow> blackouts;

  // INVALID_ARGUMENT naming `prefix` + the field.
  absl::Status Validate(absl::string_view prefix = "") const;
};

// A reservation's own values; unset fields take the global default.
struct PlannerOverrides {
  std::optional<PlannerMode> mode;
  std::optional<double> migration_threshold;
  std::optional<absl::Duration> min_dwell;
  std::optional<int> max_moves_per_day;
  std::optional<double> hysteresis_relative;
  std::optional<double> hysteresis_absolute;
  std::optional<absl::Duration> return_cooldown;
  std::optional<double> return_saving_multiple;
  std::optional<std::string> pinned_location;
  std::optional<std::vector<BlackoutWindow>> blackouts;

  PlannerSettings ApplyTo(PlannerSettings defaults) const;
  // These overrides with every field that `newer` sets replaced by its value.
  PlannerOverrides MergedWith(const PlannerOverrides& newer) const;
  bool empty() const;
  // INVALID_ARGUMENT naming `prefix` + the field: a value out of range, or a pinned location
  // outside `allowed` (the reservation's placement set).
  absl::Status Validate(absl::string_view prefix, const std::vector<std::string>& allowed) const;
};

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_PLANNER_PLANNER_SETTINGS_H_
