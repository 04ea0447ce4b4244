// Regions and locations in PostgreSQL. Thread-safe (each call takes a pooled connection).
// Errors: NOT_FOUND for an unknown name; FAILED_PRECONDITION when a delete would orphan rows
// (locations in a region, live instances at a location) or a location names an unknown region.
#ifndef SHADOWPLANE_STORE_LOCATION_REPOSITORY_H_
#define SHADOWPLANE_STORE_LOCATION_REPOSITORY_H_

#include <functional>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"
#include "store/price_repository.h"

namespace shadowplane::store {

struct RegionRecord {
  std::string name;
  std::string display_name;
  double latitude = 0;
  double longitude = 0;
  absl::Time updated_at;
};

struct LocationRecord {
  std::string name;
  std::string region;
  double latitude = 0;
  double longitude = 0;
  std::string agent_endpoint;
  double on_demand_price_per_vcpu_hour = 0;
  double on_demand_price_per_gib_hour = 0;
  std::optional<double> spot_price_per_vcpu_hour;
  std::optional<double> spot_price_per_gib_hour;
  double spot_availability = 0;
  double bandwidth_price_per_gb = 0;
  double electricity_price_per_kwh = 0;
  double power_draw_watts_per_vcpu = 0;
  int64_t capacity_millicores = 0;
  int64_t capacity_memory_mib = 0;
  absl::Time updated_at;
  // Computed: capacity held by live instances.
  int64_t used_millicores = 0;
  int64_t used_memory_mib = 0;
  // Cordoned: nothing is placed or moved into it (LocationService.Cordon).
  bool cordoned = false;
  std::string cordon_reason;
  // Lost (reconcile/location_health_monitor.h): its agent and instances went unreachable. It
  // takes nothing new until it has been healthy again for --location_recovery.
  std::optional<absl::Time> lost_at;
  std::string lost_reason;
  std::optional<absl::Time> healthy_since;  // lost, and answering again since then
  // Draining (LocationService.DrainLocation): cordoned, its instances being moved out.
  std::optional<absl::Time> drain_started_at;

  // Whether placement and the planner may put anything new here.
  bool Usable() const { return !cordoned && !lost_at.has_value(); }
};

struct Page {
  int page_size = 100;
  std::string after;  // the last name of the previous page
};

// Every region and location, by name, with the locations' observed prices.
struct LocationCatalog {
  std::vector<RegionRecord> regions;
  std::vector<LocationRecord> locations;
  // Per location that has observations (store/price_repository.h).
  std::map<std::string, PriceHistory> prices;
};

class LocationRepository {
 public:
  explicit LocationRepository(ConnectionPool* pool) : pool_(pool) {}

  absl::Status UpsertRegion(const RegionRecord& region);
  absl::StatusOr<RegionRecord> GetRegion(const std::string& name);
  absl::StatusOr<std::vector<RegionRecord>> ListRegions(const Page& page);
  absl::Status DeleteRegion(const std::string& name);

  absl::Status UpsertLocation(const LocationRecord& location);
  absl::StatusOr<LocationRecord> GetLocation(const std::string& name);
  // `region` empty: all regions.
  absl::StatusOr<std::vector<LocationRecord>> ListLocations(const Page& page,
                                                            const std::string& region);
  absl::Status DeleteLocation(const std::string& name);
  // Cordons (or uncordons) `name`, keeping its other columns; NOT_FOUND for an unknown one.
  absl::StatusOr<LocationRecord> SetCordon(const std::string& name, bool cordoned,
                                           const std::string& reason);

  // Health (reconcile/location_health_monitor.h). MarkLost records the loss once (a later call
  // keeps the first time and reason) and forgets any recovery in progress; MarkAnswering starts
  // the recovery clock of a lost location unless it runs already; MarkRecovered ends the loss.
  // NOT_FOUND for an unknown location.
  absl::Status MarkLost(const std::string& name, absl::Time at, const std::string& reason);
  absl::Status MarkAnswering(const std::string& name, absl::Time at);
  absl::Status MarkRecovered(const std::string& name);
  // Starts (or ends) a drain: cordoned with `reason` and drain_started_at set, or both cleared.
  absl::StatusOr<LocationRecord> SetDrain(const std::string& name, std::optional<absl::Time> at,
                                          const std::string& reason);

  // All regions and locations (a deployment has tens, not millions), with their price histories.
  absl::StatusOr<LocationCatalog> LoadAll();

 private:
  // Runs `update` on location `name` in a transaction; NOT_FOUND for an unknown one.
  absl::Status UpdateOne(const char* what, const std::string& name,
                         const std::function<pqxx::result(pqxx::work&)>& update);

  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_LOCATION_REPOSITORY_H_
