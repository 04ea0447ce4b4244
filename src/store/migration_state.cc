#include "store/migration_state.h"

#include <utility>

namespace shadowplane::store {

namespace {

constexpr std::pair<MigrationState, const char*> kNames[] = {
    {MigrationState::kPlanned, "PLANNED"},
    {MigrationState::kPreparingTarget, "PREPARING_TARGET"},
    {MigrationState::kPrecopy, "PRECOPY"},
    {MigrationState::kCutover, "CUTOVER"},
    {MigrationState::kRetiringSource, "RETIRING_SOURCE"},
    {MigrationState::kObserving, "OBSERVING"},
    {MigrationState::kDone, "DONE"},
    {MigrationState::kRollingBack, "ROLLING_BACK"},
    {MigrationState::kRolledBack, "ROLLED_BACK"},
    {MigrationState::kFailed, "FAILED"},
    {MigrationState::kPromoting, "PROMOTING"},
};

}  // namespace

const char* StateName(MigrationState state) {
  for (const auto& [s, name] : kNames) {
    if (s == state) return name;
  }
  return "UNKNOWN";
}

std::optional<MigrationState> ParseState(absl::string_view name) {
  for (const auto& [s, n] : kNames) {
    if (name == n) return s;
  }
  return std::nullopt;
}

bool IsFinal(MigrationState state) {
  return state == MigrationState::kDone || state == MigrationState::kRolledBack ||
         state == MigrationState::kFailed;
}

bool CanRollBack(MigrationState state) {
  return state == MigrationState::kPlanned || state == MigrationState::kPreparingTarget ||
         state == MigrationState::kPrecopy || state == MigrationState::kCutover;
}

bool CanTransition(MigrationState from, MigrationState to) {
  using S = MigrationState;
  if (IsFinal(from)) return false;
  if (to == S::kFailed) return true;
  if (to == S::kRollingBack) return CanRollBack(from);
  switch (from) {
    case S::kPlanned:
      return to == S::kPreparingTarget;
    case S::kPreparingTarget:
      return to == S::kPrecopy || to == S::kPromoting;
    case S::kPrecopy:
      return to == S::kCutover;
    case S::kCutover:
      return to == S::kRetiringSource;
    case S::kRetiringSource:
      return to == S::kObserving;
    case S::kPromoting:
      return to == S::kObserving;
    case S::kObserving:
      return to == S::kDone;
    case S::kRollingBack:
      return to == S::kRolledBack;
    default:
      return false;
  }
}

}  // namespace shadowplane::store
