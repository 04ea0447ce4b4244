#include "planner/planner_settings.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace shadowplane::planner {
namespace {

absl::Status Refuse(absl::string_view prefix, absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(prefix, field, " ", why));
}

bool NonNegative(double v) { return std::isfinite(v) && v >= 0; }

}  // namespace

const char* PlannerModeName(PlannerMode mode) {
  switch (mode) {
    case PlannerMode::kOff:
      return "off";
    case PlannerMode::kRecommend:
      return "recommend";
    case PlannerMode::kAuto:
      return "auto";
  }
  return "unknown";
}

bool ParsePlannerMode(absl::string_view text, PlannerMode* mode) {
  for (PlannerMode m : {PlannerMode::kOff, PlannerMode::kRecommend, PlannerMode::kAuto}) {
    if (text == PlannerModeName(m)) {
      *mode = m;
      return true;
    }
  }
  return false;
}

absl::Status PlannerSettings::Validate(absl::string_view prefix) const {
  if (!(migration_threshold >= 0 && migration_threshold <= 1)) {  // NaN fails both
    return Refuse(prefix, "migration_threshold", "must lie in [0, 1]");
  }
  if (horizon < absl::Hours(1)) return Refuse(prefix, "horizon", "must be at least 1h");
  const AntiFlapping& a = anti_flapping;
  if (a.min_dwell < absl::ZeroDuration())
    return Refuse(prefix, "min_dwell", "must not be negative");
  if (a.max_moves_per_day < 0) return Refuse(prefix, "max_moves_per_day", "must not be negative");
  if (!NonNegative(a.hysteresis_relative)) {
    return Refuse(prefix, "hysteresis_relative", "must be a finite number >= 0");
  }
  if (!NonNegative(a.hysteresis_absolute)) {
    return Refuse(prefix, "hysteresis_absolute", "must be a finite number >= 0");
  }
  if (a.return_cooldown < absl::ZeroDuration()) {
    return Refuse(prefix, "return_cooldown", "must not be negative");
  }
  if (!NonNegative(a.return_saving_multiple)) {
    return Refuse(prefix, "return_saving_multiple", "must be a finite number >= 0");
  }
  std::vector<BlackoutWindow> sorted = blackouts;
  std::sort(sorted.begin(), sorted.end(),
            [](const BlackoutWindow& x, const BlackoutWindow& y) { return x.start < y.start; });
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (!(sorted[i].start < sorted[i].end)) {
      return Refuse(prefix, "blackouts", "hold a window whose start is not before its end");
    }
    if (i > 0 && sorted[i].start < sorted[i - 1].end) {
      return Refuse(prefix, "blackouts", "hold overlapping windows");
    }
  }
  return absl::OkStatus();
}

PlannerSettings PlannerOverrides::ApplyTo(PlannerSettings s) const {
  if (mode) s.mode = *mode;
  if (migration_threshold) s.migration_threshold = *migration_threshold;
  if (min_dwell) s.anti_flapping.min_dwell = *min_dwell;
  if (max_moves_per_day) s.anti_flapping.max_moves_per_day = *max_moves_per_day;
  if (hysteresis_relative) s.anti_flapping.hysteresis_relative = *hysteresis_relative;
  if (hysteresis_absolute) s.anti_flapping.hysteresis_absolute = *hysteresis_absolute;
  if (return_cooldown) s.anti_flapping.return_cooldown = *return_cooldown;
  if (return_saving_multiple) s.anti_flapping.return_saving_multiple = *return_saving_multiple;
  if (pinned_location) s.pinned_location = *pinned_location;
  if (blackouts) s.blackouts = *blackouts;
  return s;
}

PlannerOverrides PlannerOverrides::MergedWith(const PlannerOverrides& n) const {
  PlannerOverrides m = *this;
  if (n.mode) m.mode = n.mode;
  if (n.migration_threshold) m.migration_threshold = n.migration_threshold;
  if (n.min_dwell) m.min_dwell = n.min_dwell;
  if (n.max_moves_per_day) m.max_moves_per_day = n.max_moves_per_day;
  if (n.hysteresis_relative) m.hysteresis_relative = n.hysteresis_relative;
  if (n.hysteresis_absolute) m.hysteresis_absolute = n.hysteresis_absolute;
  if (n.return_cooldown) m.return_cooldown = n.return_cooldown;
  if (n.return_saving_multiple) m.return_saving_multiple = n.return_saving_multiple;
  if (n.pinned_location) m.pinned_location = n.pinned_location;
  if (n.blackouts) m.blackouts = n.blackouts;
  return m;
}

bool PlannerOverrides::empty() const {
  return !mode && !migration_threshold && !min_dwell && !max_moves_per_day &&
         !hysteresis_relative && !hysteresis_absolute && !return_cooldown &&
         !return_saving_multiple && !pinned_location && !blackouts;
}

absl::Status PlannerOverrides::Validate(absl::string_view prefix,
                                        const std::vector<std::string>& allowed) const {
  // The overrides' own ranges are the settings' (the defaults they are laid over pass them).
  RETURN_IF_ERROR(ApplyTo(PlannerSettings()).Validate(prefix));
  if (pinned_location && !pinned_location->empty() &&
      std::find(allowed.begin(), allowed.end(), *pinned_location) == allowed.end()) {
    return Refuse(prefix, "pinned_location",
                  absl::StrCat("names ", *pinned_location,
                               ", which is not in the reservation's placement set"));
  }
  return absl::OkStatus();
}

}  // namespace shadowplane::planner
