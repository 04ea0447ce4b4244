// Keeps the freeze model in the database: every measured cutover is recorded and the model refitted
// to the newest kFitWindow of them (migration/freeze_model.h), so that every replica prices moves
// and sets hold bounds with the same model. Thread-safe.
#ifndef SHADOWPLANE_MIGRATION_FREEZE_MODEL_KEEPER_H_
#define SHADOWPLANE_MIGRATION_FREEZE_MODEL_KEEPER_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "migration/freeze_model.h"
#include "store/cutover_repository.h"

namespace shadowplane::migration {

inline constexpr int kFitWindow = 200;

class FreezeModelKeeper {
 public:
  FreezeModelKeeper(store::CutoverRepository* cutovers, const Clock* clock)
      : cutovers_(cutovers), clock_(clock) {}

  // Records a cutover of `migration_id` (empty: none) and refits; returns the new model.
  absl::StatusOr<FreezeModel> Record(const std::string& migration_id, const CutoverSample& sample);
  // The stored model; the default before any was fitted.
  absl::StatusOr<FreezeModel> Current();

 private:
  store::CutoverRepository* const cutovers_;
  const Clock* const clock_;
};

}  // namespace shadowplane::migration

#endif  // SHADOWPLANE_MIGRATION_FREEZE_MODEL_KEEPER_H_
