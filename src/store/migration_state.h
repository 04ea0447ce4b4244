// The migration state machine (ARCHITECTURE.md): which states there are and which moves between
// them are allowed. A planned move:
//   PLANNED -> PREPARING_TARGET -> PRECOPY -> CUTOVER -> RETIRING_SOURCE -> OBSERVING -> DONE
// an emergency promotion (the primary is lost or about to be):
//   PLANNED -> PREPARING_TARGET -> PROMOTING -> OBSERVING -> DONE
// and from any unfinished state before traffic has moved, ROLLING_BACK -> ROLLED_BACK; from any
// unfinished state, FAILED on a permanent error. DONE, ROLLED_BACK and FAILED are final.
#ifndef SHADOWPLANE_STORE_MIGRATION_STATE_H_
#define SHADOWPLANE_STORE_MIGRATION_STATE_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace shadowplane::store {

enum class MigrationState {
  kPlanned,
  kPreparingTarget,
  kPrecopy,
  kCutover,
  kRetiringSource,
  kObserving,
  kDone,
  kRollingBack,
  kRolledBack,
  kFailed,
  kPromoting,
};

// "PLANNED", "PREPARING_TARGET", ... as stored in `migrations.state`.
const char* StateName(MigrationState state);
std::optional<MigrationState> ParseState(absl::string_view name);

// DONE, ROLLED_BACK, FAILED.
bool IsFinal(MigrationState state);
// Whether traffic may still be at the source: a rollback can only start before the cutover has
// switched it. Within CUTOVER that depends on how far the step got (the migration records the
// switch); from RETIRING_SOURCE on, the way back is another migration.
bool CanRollBack(MigrationState state);
// Whether `from -> to` is a move of the state machine.
bool CanTransition(MigrationState from, MigrationState to);

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_MIGRATION_STATE_H_
