// Reservations: a client books a resource at a flexible location and gets a primary plus a
// read-only shadow at a geographically diverse second location, running on the compute provider.
//
// Reserve places both (planner/placement.h), records the reservation and its instances as pending
// in one transaction, then creates the instances and, with a traffic provider, points the
// reservation's service name at the primary (Release removes it again). An agent that cannot be
// reached leaves the reservation pending; ReconcileOnce() (run under a lease) finishes it when the
// agent returns, or rolls it back on a permanent error, so no half-created reservation is left for
// nobody. Release is idempotent and likewise finished by ReconcileOnce(). Thread-safe.
//
// Both instances are created from the reservation's seed directory (the local provider's agents
// share a machine); from then on shadow sync (shadow/shadow_syncer.h) keeps the shadow behind the
// primary, and a shadow re-created after it was lost starts from the seed until its next round.
#ifndef SHADOWPLANE_RESERVATION_RESERVATION_MANAGER_H_
#define SHADOWPLANE_RESERVATION_RESERVATION_MANAGER_H_

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "fencing/write_authority.h"
#include "geo/distance.h"
#include "planner/placement.h"
#include "planner/planner_settings.h"
#include "providers/compute_provider.h"
#include "providers/traffic_provider.h"
#include "store/location_repository.h"
#include "store/reservation_repository.h"

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Counter;
class Gauge;
}  // namespace prometheus

namespace shadowplane::reservation {

struct ReserveSpec {
  std::string request_id;
  std::string name;
  Capacity capacity;
  int64_t data_size_bytes = 0;
  std::string seed_dir;
  std::optional<double> shadow_capacity_fraction;
  std::optional<double> shadow_sync_interval_seconds;
  std::vector<std::string> locations;
  std::vector<std::string> regions;
  std::vector<planner::ClientRegionWeight> client_regions;
  std::string service_name;  // empty: ReservationOptions::service_name_template
  // The planner's settings for this reservation (unset fields: the server's defaults).
  planner::PlannerOverrides planner;
  // The team it belongs to (api/access/ownership.h); empty: none. Its quota
  // (ReservationOptions::team_quota) applies.
  std::string owner_team;
};

struct ReservationUpdate {
  std::optional<double> shadow_sync_interval_seconds;
  std::optional<double> shadow_capacity_fraction;
  std::optional<int64_t> millicores;
  std::optional<int64_t> memory_mib;
  // Fields set here replace the stored planner overrides'; `reset_planner` drops those first.
  planner::PlannerOverrides planner;
  bool reset_planner = false;
};

struct ReservationOptions {
  planner::CostModel cost;
  geo::RttModel rtt;
  double default_shadow_capacity_fraction = 0.25;
  double default_shadow_sync_interval_seconds = 60;
  // A reservation's service name when it gives none; "{name}" is the resource's name.
  std::string service_name_template = "{name}";
  // A team's quota (common/capacity.h); unset, or nullopt for a team: no limit.
  std::function<std::optional<TeamQuota>(const std::string& team)> team_quota;
};

class ReservationManager {
 public:
  // The domain clock reservations are timed by.
  const Clock* clock() const { return clock_; }

  // `registry` may be null; so may `traffic`: then no reservation's clients are steered.
  // `writes` hands primaries their write authority (fencing/write_authority.h).
  ReservationManager(store::ReservationRepository* reservations,
                     store::LocationRepository* locations, providers::ComputeProvider* compute,
                     fencing::WriteAuthority* writes, const Clock* clock,
                     ReservationOptions options, prometheus::Registry* registry,
                     providers::TrafficProvider* traffic = nullptr);

  // INVALID_ARGUMENT naming the field; NOT_FOUND for an unknown location or region;
  // RESOURCE_EXHAUSTED when nothing allowed has room or the owner team's quota would be exceeded;
  // FAILED_PRECONDITION when no shadow location satisfies the diversity rule; a permanent provider
  // error after rolling back. A pending reservation (agent unreachable) is returned as such, with
  // OK.
  absl::StatusOr<store::ReservationRecord> Reserve(const ReserveSpec& spec);
  absl::StatusOr<store::ReservationRecord> Get(const std::string& id);
  absl::StatusOr<std::vector<store::ReservationRecord>> List(
      const store::ReservationFilter& filter);
  // A larger size is claimed against the owner team's quota (RESOURCE_EXHAUSTED) before the
  // instances grow, and given back when they cannot.
  absl::StatusOr<store::ReservationRecord> Update(const std::string& id,
                                                  const ReservationUpdate& update);
  absl::StatusOr<store::ReservationRecord> Release(const std::string& id);

  // One pass: finishes pending reservations and releases in progress, brings a page of active
  // reservations' instances back to running (a stopped one restarts with its data, a lost shadow
  // is re-created; a primary lost with its data is marked failed, never re-seeded), builds a new
  // shadow at another diverse location for each shadow whose location is lost
  // (reconcile/location_health_monitor.h) or draining (migration/location_drainer.h; see
  // reservation/shadow_replacement.cc), and refreshes the
  // gauges. Not to be run by two threads at once.
  absl::Status ReconcileOnce();

  // Rebuilds the reservation's shadow at another diverse location now (its capacity on spot was
  // interrupted: migration/spot_fallback.h). FAILED_PRECONDITION when another call holds the
  // reservation or a migration is under way; what placement or the store refused otherwise.
  absl::Status ReplaceShadowNow(const std::string& reservation_id, const char* why);

 private:
  // Creates whatever instance is not running yet; then active, pending or rolled back.
  absl::StatusOr<store::ReservationRecord> Complete(store::ReservationRecord record);
  // What creates `instance` as recorded, from the reservation's seed (no write grant).
  static providers::InstanceSpec SpecOf(const store::ReservationRecord& r,
                                        const store::InstanceRecord& instance);
  // Points the reservation's service name at its (running) primary.
  absl::Status Steer(const store::ReservationRecord& record);
  // Exclusive right, within this process, to change one reservation's instances.
  class ClaimHandle {
   public:
    ClaimHandle(ReservationManager* manager, std::string id)
        : manager_(manager), id_(std::move(id)) {}
    ClaimHandle(ClaimHandle&& other) noexcept
        : manager_(std::exchange(other.manager_, nullptr)), id_(std::move(other.id_)) {}
    ClaimHandle& operator=(ClaimHandle&&) = delete;
    ~ClaimHandle();

   private:
    ReservationManager* manager_;
    std::string id_;
  };
  // nullopt when another call holds the reservation (after waiting up to `wait` for it).
  std::optional<ClaimHandle> Claim(const std::string& id,
                                   absl::Duration wait = absl::ZeroDuration());
  // Whether the instance is still the reservation's primary or shadow, recorded read-only.
  bool StillRecordedReadOnly(const std::string& reservation_id, const std::string& instance_id);
  void Converge(const store::ReservationRecord& listed,
                const store::InstanceRecord& listed_instance);
  // A shadow whose location is lost or draining, replaced by a new one at another diverse
  // location (shadow_replacement.cc); `why` names the cause in logs and metrics. Logged and
  // counted when no location qualifies or a migration is under way; tried again on the next pass.
  absl::Status ReplaceShadowAway(const store::ReservationRecord& listed, const char* why);
  // Creates the recorded (state creating) shadow on its agent and records it running.
  void CreateReplacementShadow(const store::ReservationRecord& r,
                               const store::InstanceRecord& shadow);
  std::optional<TeamQuota> QuotaOf(const std::string& team) const;
  absl::StatusOr<std::map<std::string, planner::LocationFacts>> LoadLocations(
      std::map<std::string, planner::RegionFacts>* regions);
  void RefreshGauges();

  store::ReservationRepository* const reservations_;
  store::LocationRepository* const locations_;
  providers::ComputeProvider* const compute_;
  fencing::WriteAuthority* const writes_;
  providers::TrafficProvider* const traffic_;
  const Clock* const clock_;
  const ReservationOptions options_;
  prometheus::Family<prometheus::Gauge>* reservation_gauges_ = nullptr;
  prometheus::Family<prometheus::Gauge>* instance_gauges_ = nullptr;
  prometheus::Family<prometheus::Counter>* shadows_replaced_ = nullptr;
  std::map<std::pair<std::string, std::string>, prometheus::Gauge*> instance_series_;
  // Reservations being completed or released by this process right now: the reconcile pass
  // leaves them to the call that is already at it.
  std::string active_cursor_;  // where the next pass over active reservations starts
  absl::Mutex inflight_mu_;
  std::set<std::string> inflight_ ABSL_GUARDED_BY(inflight_mu_);
};

}  // namespace shadowplane::reservation

#endif  // SHADOWPLANE_RESERVATION_RESERVATION_MANAGER_H_
