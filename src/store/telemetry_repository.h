// The other tables of client access telemetry: demand_hourly read back for people and forecasts,
// client affinity, the operator's client networks, and what the ingest path checks events
// against (resources, their instances, regions). Thread-safe (each call takes a pooled
// connection).
#ifndef SHADOWPLANE_STORE_TELEMETRY_REPOSITORY_H_
#define SHADOWPLANE_STORE_TELEMETRY_REPOSITORY_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "store/connection_pool.h"
#include "store/demand_sums.h"

namespace shadowplane::store {

struct DemandRow {
  std::string origin_region;
  absl::Time hour;
  DemandSums sums;
  std::string clients_sketch;
};

struct AffinityRow {
  std::string resource_id;
  std::string client_key;
  std::string instance_id;  // empty: not known
  std::string origin_region;
  absl::Time last_seen;
};

struct GeoNetworkRow {
  std::string network;  // CIDR text
  std::string region;
};

// Every resource with the instances it has had (an event may name an instance that has stopped
// since), and the regions.
struct ResourceDirectoryRows {
  std::map<std::string, std::set<std::string>> instances_by_resource;
  std::map<std::string, std::string> location_by_instance;
  std::map<std::string, std::string> team_by_resource;  // resources whose reservation has a team
  std::set<std::string> regions;
};

class TelemetryRepository {
 public:
  explicit TelemetryRepository(ConnectionPool* pool) : pool_(pool) {}

  // demand_hourly rows of `resource_id` with hour in [from, to), by hour then region.
  absl::StatusOr<std::vector<DemandRow>> Demand(const std::string& resource_id, absl::Time from,
                                                absl::Time to) {
    return ReadDemand(resource_id, from, to, false);
  }
  // Requests only (no other sums, no sketches), same rows: what forecasts are fitted to.
  absl::StatusOr<std::vector<DemandRow>> Requests(const std::string& resource_id, absl::Time from,
                                                  absl::Time to) {
    return ReadDemand(resource_id, from, to, true);
  }
  // Requests of every other resource from `regions`, summed per region and hour over [from, to):
  // what a resource without history of its own borrows its shape from.
  absl::StatusOr<std::vector<DemandRow>> OthersRequests(const std::string& resource_id,
                                                        const std::vector<std::string>& regions,
                                                        absl::Time from, absl::Time to);
  // Resources (not deleted) with requests from `regions` over [from, to), busiest first, at most
  // `limit`: those a regional event affected.
  absl::StatusOr<std::vector<std::string>> ResourcesWithRequests(
      const std::vector<std::string>& regions, absl::Time from, absl::Time to, int limit);
  // Bytes served per request (bytes_out over requests) by origin region over [from, to); regions
  // without requests are left out. The planner's egress term.
  absl::StatusOr<std::map<std::string, double>> BytesPerRequest(const std::string& resource_id,
                                                                absl::Time from, absl::Time to);
  // Whether the resource exists (deleted or not).
  absl::StatusOr<bool> ResourceExists(const std::string& resource_id);

  // Upserts; a row only moves forward in time (an older report never overwrites a newer one).
  absl::Status UpsertAffinity(absl::Span<const AffinityRow> rows);
  absl::StatusOr<std::vector<AffinityRow>> Affinity(const std::string& resource_id);

  absl::StatusOr<std::vector<GeoNetworkRow>> GeoNetworks();
  absl::Status UpsertGeoNetwork(const GeoNetworkRow& row, absl::Time now);

  // Resources events may name (not those whose telemetry a release asked to purge), their
  // instances, and the regions.
  absl::StatusOr<ResourceDirectoryRows> LoadResourceDirectory();

 private:
  absl::StatusOr<std::vector<DemandRow>> ReadDemand(const std::string& resource_id, absl::Time from,
                                                    absl::Time to, bool requests_only);

  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_TELEMETRY_REPOSITORY_H_
