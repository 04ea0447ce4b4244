// Reservations, their resources and instances in PostgreSQL. A reservation and everything it owns
// are written in one transaction, so no reader ever sees half of one. Thread-safe.
#ifndef SHADOWPLANE_STORE_RESERVATION_REPOSITORY_H_
#define SHADOWPLANE_STORE_RESERVATION_REPOSITORY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/capacity.h"
#include "store/connection_pool.h"

namespace shadowplane::store {

struct InstanceRecord {
  std::string id;
  std::string role;  // primary, shadow, target (of a migration), retired (left by one)
  std::string location;
  std::string region;  // of the location (read only)
  Capacity capacity;
  bool read_only = true;
  std::string state;  // creating, running, scaling, draining, stopped, failed
  std::string endpoint;
};

// An instance in `state` still holds its data and capacity: anything but stopped or failed.
inline bool IsLiveState(const std::string& state) {
  return state != "stopped" && state != "failed";
}
inline bool IsLive(const InstanceRecord& i) { return IsLiveState(i.state); }

struct ReservationRecord {
  std::string id;
  std::string request_id;
  std::string resource_id;
  std::string name;
  std::string state;  // pending, active, releasing, released, failed
  Capacity capacity;
  int64_t data_size_bytes = 0;
  std::string seed_dir;
  double shadow_capacity_fraction = 0.25;
  double shadow_sync_interval_seconds = 60;
  std::string placement_json;  // the client's constraint, as given
  std::string explanation;
  std::string error;
  absl::Time created_at;
  absl::Time updated_at;
  InstanceRecord primary;
  InstanceRecord shadow;
  // The source state the shadow last caught up with (the start of the last good round).
  std::optional<absl::Time> last_synced_at;
  std::string last_sync_error;  // of the last round, empty when it succeeded
  // Where its clients are steered (providers/traffic_provider.h); empty provider: nowhere.
  std::string traffic_provider;
  std::string service_name;
  // The planner's overrides (planner/planner_overrides_codec.h); empty: the global defaults.
  std::string planner_overrides_json;
  // Release with purge_telemetry (migrations/0019_telemetry_purge.sql), on the wall clock: when it
  // was asked for, and when its telemetry was last deleted.
  std::optional<absl::Time> telemetry_purge_requested_at;
  std::optional<absl::Time> telemetry_purged_at;
  // The team it belongs to (api/access/ownership.h); empty: none (only admins change it).
  std::string owner_team;
  // The resource's instances sign forwarded requests with it (instance/forward_auth.h); read
  // only, never shown.
  std::string forward_secret;
};

struct ReservationFilter {
  std::string state;       // empty: any
  std::string location;    // empty: any; else with an instance there
  std::string owner_team;  // empty: any
  int page_size = 100;
  std::string after;  // the last id of the previous page
};

class ReservationRepository {
 public:
  explicit ReservationRepository(ConnectionPool* pool) : pool_(pool) {}

  // Writes the resource, the reservation (state pending) and both instances (state creating) and
  // fills in their ids. ALREADY_EXISTS when request_id is taken. With an owner team and a
  // `quota`, RESOURCE_EXHAUSTED (store/team_quota.h) when the team's live reservations and this
  // one would exceed it; nothing is written then.
  absl::StatusOr<ReservationRecord> CreatePending(ReservationRecord draft, absl::Time now,
                                                  const std::optional<TeamQuota>& quota = {});
  // Records `capacity` as the reservation's size before its instances grow to it, so that its
  // team's quota counts it from now on: RESOURCE_EXHAUSTED when the owner team's live
  // reservations with this one at `capacity` would exceed `quota` (nothing changed then).
  // NOT_FOUND for an unknown reservation.
  absl::Status ClaimCapacity(const std::string& id, const Capacity& capacity,
                             const std::optional<TeamQuota>& quota, absl::Time now);

  absl::StatusOr<ReservationRecord> Get(const std::string& id);
  // The reservation that owns `resource_id`; NOT_FOUND when none does.
  absl::StatusOr<ReservationRecord> GetByResource(const std::string& resource_id);
  // The placement constraint (JSON) of the reservation owning `resource_id`; empty when none does.
  absl::StatusOr<std::string> PlacementOfResource(const std::string& resource_id);
  // nullopt when no reservation has this request id.
  absl::StatusOr<std::optional<ReservationRecord>> FindByRequestId(const std::string& request_id);
  absl::StatusOr<std::vector<ReservationRecord>> List(const ReservationFilter& filter);
  // What ownership (api/access/ownership.h) looks up: the owner team of a reservation, or of the
  // reservation a migration or a planner decision concerns. nullopt when there is no such thing
  // (the call's own lookup then says NOT_FOUND); empty when it belongs to no team.
  enum class Owned { kReservation, kMigration, kDecision };
  absl::StatusOr<std::optional<std::string>> OwnerTeamOf(Owned what, const std::string& id);
  // Ids of reservations in `state`, oldest first.
  absl::StatusOr<std::vector<std::string>> IdsInState(const std::string& state, int limit);

  absl::Status SetInstance(const std::string& instance_id, const std::string& state,
                           const std::string& endpoint, absl::Time now);
  absl::Status SetInstanceCapacity(const std::string& instance_id, const Capacity& capacity,
                                   absl::Time now);
  // Records the mode an instance should serve in (the reconcile loop fences one that serves
  // writes when it is recorded read-only).
  absl::Status SetInstanceReadOnly(const std::string& instance_id, bool read_only, absl::Time now);
  // A migration's cutover, recorded: `new_primary` (a live instance of the resource) becomes its
  // read-write primary and `keep_shadow` (empty: the old primary) its read-only shadow; any other
  // live instance becomes 'retired' (to be deactivated). One transaction, so that no reader ever
  // sees two primaries or none. OK when it already is the primary (a retried step);
  // FAILED_PRECONDITION when either is not a live instance of the resource.
  absl::Status SwapRoles(const std::string& resource_id, const std::string& new_primary,
                         absl::Time now, const std::string& keep_shadow = "");
  // A migration's new instance at `location` (role 'target', read-only, state creating); the one
  // already recorded when there is one (a retried step).
  absl::StatusOr<InstanceRecord> AddTarget(const std::string& resource_id,
                                           const std::string& location, const Capacity& capacity,
                                           absl::Time now);
  // A shadow lost with its location, replaced: `old_shadow` (the resource's live shadow) is marked
  // retired and failed (the orphan reaper deactivates it should its location return) and a new
  // shadow recorded at `location` (read-only, state creating), in one transaction. The
  // reservation's last good round is forgotten: the new shadow starts from the seed. The shadow
  // recorded already when `old_shadow` was replaced before (a retried call). FAILED_PRECONDITION
  // while a migration of the resource is under way (it decides the roles), or when `old_shadow`
  // is not the resource's live shadow.
  absl::StatusOr<InstanceRecord> ReplaceShadow(const std::string& resource_id,
                                               const std::string& old_shadow,
                                               const std::string& location,
                                               const Capacity& capacity, absl::Time now);
  // Every instance of the resource, stopped ones too, oldest first.
  absl::StatusOr<std::vector<InstanceRecord>> Instances(const std::string& resource_id);
  // Moves the reservation to `state` (and its error); with released or failed, its resource is
  // marked deleted and its instances stopped or failed, in the same transaction.
  // With `only_from` non-empty, changes nothing and returns ABORTED unless the reservation is in
  // that state now (another call moved it on).
  absl::Status SetState(const std::string& id, const std::string& state, const std::string& error,
                        absl::Time now, const std::string& only_from = "");
  absl::Status UpdateSettings(const ReservationRecord& record, absl::Time now);
  // Reservations by state, for metrics.
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> CountByState();
  struct InstanceCount {
    std::string location;
    std::string state;
    int64_t count;
  };
  // Instances by location and state, for metrics.
  absl::StatusOr<std::vector<InstanceCount>> CountInstances();

 private:
  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_RESERVATION_REPOSITORY_H_
