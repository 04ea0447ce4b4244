// One step of a migration at a time: what MigrationDriver runs. Migrator is the implementation;
// tests script stand-ins to drive leases and takeovers without agents.
#ifndef SHADOWPLANE_MIGRATION_MIGRATION_STEPPER_H_
#define SHADOWPLANE_MIGRATION_MIGRATION_STEPPER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/migration_repository.h"

namespace shadowplane::migration {

// What a step did: the migration as it is now, and how long to wait before its next step.
struct StepResult {
  store::MigrationRecord migration;
  absl::Duration wait = absl::ZeroDuration();
};

class MigrationStepper {
 public:
  virtual ~MigrationStepper() = default;
  // Runs the current state's step of `m` once, as `owner` (its lease holder; empty: no lease).
  // ABORTED when another driver moved it meanwhile.
  virtual absl::StatusOr<StepResult> Step(const store::MigrationRecord& m,
                                          const std::string& owner) = 0;
  // Moves `m` to ROLLING_BACK (when it can still roll back) or FAILED, recording `why`.
  virtual absl::Status GiveUp(const store::MigrationRecord& m, const absl::Status& why,
                              const std::string& owner) = 0;
};

}  // namespace shadowplane::migration

#endif  // SHADOWPLANE_MIGRATION_MIGRATION_STEPPER_H_
