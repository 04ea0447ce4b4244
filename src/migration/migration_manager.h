// The MigrationService's domain side: checks a migration request against the reservation, the
// catalog and the target's free capacity, records it (PLANNED; idempotent by request id) and wakes
// the driver; reads migrations back with their events, rounds and observation; cancels. The
// migration itself is the driver's (migration/migration_driver.h). Thread-safe.
#ifndef SHADOWPLANE_MIGRATION_MIGRATION_MANAGER_H_
#define SHADOWPLANE_MIGRATION_MIGRATION_MANAGER_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "store/disruption_repository.h"
#include "store/location_repository.h"
#include "store/migration_repository.h"
#include "store/reservation_repository.h"
#include "store/write_lease_repository.h"

namespace shadowplane::migration {

struct MigrateSpec {
  std::string request_id;
  std::string reservation_id;
  std::string target_location;  // emergency: empty means the shadow's location
  std::string capacity_type;    // empty: the primary's
  std::string reason;
  // A planned move timed by the planner: pre-copy goes on until this domain time.
  std::optional<absl::Time> cutover_after;
  std::string kind;  // empty: planned
  // Emergency only: promote even though the primary still holds its write lease.
  bool force = false;
  // A spot fallback (migration/spot_fallback.h): see MigrationRecord::urgent.
  bool urgent = false;
  // Set by the planner: the decision that started the move and what it expected of it.
  std::string decision_id;
  std::optional<double> predicted_saving;
  std::optional<double> predicted_confidence;
};

// A migration with what GetMigration shows besides the row.
struct MigrationDetails {
  store::MigrationRecord migration;
  std::string reservation_id;
  std::vector<store::MigrationEventRecord> events;
  std::vector<store::MigrationRoundRecord> rounds;
  // What the move did to the resource's clients, once counted (migration/disruption_count.h).
  std::optional<store::DisruptionRecord> disruptions;
};

class MigrationManager {
 public:
  // `wake` (may be empty) is called after a migration is created: the driver's Wake().
  // `disruptions` may be null (migrations are shown without what they did to clients).
  MigrationManager(store::MigrationRepository* migrations,
                   store::ReservationRepository* reservations, store::LocationRepository* locations,
                   store::WriteLeaseRepository* leases, store::DisruptionRepository* disruptions,
                   const Clock* clock, std::function<void()> wake);

  // See MigrationService.Migrate in proto/shadowplane/v1/migrations.proto for the errors.
  absl::StatusOr<store::MigrationRecord> Migrate(const MigrateSpec& spec);
  absl::StatusOr<MigrationDetails> Get(const std::string& id);
  absl::StatusOr<std::vector<store::MigrationRecord>> List(const store::MigrationFilter& filter);
  absl::StatusOr<store::MigrationRecord> Cancel(const std::string& id);
  // The reservation that owns `resource_id` (empty when none does any more).
  std::string ReservationOf(const std::string& resource_id);

 private:
  // FAILED_PRECONDITION when `location` lacks room for `needed` more (or spot when asked).
  absl::Status CheckRoom(const store::LocationRecord& location, const Capacity& needed);

  store::MigrationRepository* const migrations_;
  store::WriteLeaseRepository* const leases_;
  store::ReservationRepository* const reservations_;
  store::LocationRepository* const locations_;
  store::DisruptionRepository* const disruptions_;
  const Clock* const clock_;
  const std::function<void()> wake_;
};

}  // namespace shadowplane::migration

#endif  // SHADOWPLANE_MIGRATION_MIGRATION_MANAGER_H_
