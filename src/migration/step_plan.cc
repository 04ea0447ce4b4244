// The migration step PLANNED: the target chosen and the move started within the concurrency limits.
#include "migration/migrator_internal.h"

namespace shadowplane::migration {

absl::StatusOr<StepResult> Migrator::Plan(const store::MigrationRecord& m,
                                          const std::string& owner) {
  // What the observation will compare with: the newest forecast per region, from now on (kept as
  // first recorded when this step runs again).
  auto forecasts = forecasts_->Latest(m.resource_id);
  if (forecasts.ok()) {
    std::vector<store::MigrationObservationRecord> rows;
    const absl::Time from = HourFloor(clock_->Now());
    for (const store::ForecastRecord& f : *forecasts) {
      if (f.origin_region == "total") continue;
      for (size_t i = 0; i < f.values.size(); ++i) {
        const absl::Time hour = f.first_hour + absl::Hours(static_cast<int64_t>(i));
        if (hour < from) continue;
        rows.push_back({f.origin_region, hour, std::max(0.0, f.values[i]), std::nullopt});
      }
    }
    RETURN_IF_ERROR(migrations_->RecordPredicted(m.id, rows));
  }
  store::MigrationProgress progress = m.progress;
  progress.attempts = 0;
  progress.next_attempt_at.reset();
  progress.last_error.clear();
  const std::string detail =
      Json({{"forecast_regions", absl::StrCat(forecasts.ok() ? forecasts->size() : 0)}});
  ASSIGN_OR_RETURN(bool started, migrations_->StartWithinLimits(
                                     m.id, options_.max_active, options_.max_active_per_location,
                                     progress, detail, clock_->Now(), owner));
  if (!started) return StepResult{m, kSlotPoll};  // queued behind the concurrency limits
  return Entered(m, store::MigrationState::kPreparingTarget, detail);
}

}  // namespace shadowplane::migration
