#include "store/telemetry_repository.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "store/copy_binary.h"
#include "store/hex.h"
#include "store/location_repository.h"
#include "store/sql_array.h"
#include "store/sql_time.h"
#include "store/uuid.h"

namespace shadowplane::store {

namespace {

// A row that starts (origin_region, hour as SP_SQL_UTC text, requests): the requests only.
DemandRow RequestsOf(const pqxx::row& r) {
  DemandRow d;
  d.origin_region = r[0].as<std::string>();
  d.hour = FromSqlTime(r[1].as<std::string>());
  d.sums.requests = r[2].as<int64_t>();
  return d;
}
}  // namespace

absl::StatusOr<std::vector<DemandRow>> TelemetryRepository::ReadDemand(
    const std::string& resource_id, absl::Time from, absl::Time to, bool requests_only) {
  if (!LooksLikeUuid(resource_id)) return std::vector<DemandRow>{};
  return pool_->Run(
      "reading demand", [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<DemandRow>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            absl::StrCat("SELECT origin_region, ", SP_SQL_UTC("hour"), ", requests",
                         requests_only
                             ? ""
                             : ", bytes_in, bytes_out, cpu_millis, memory_bytes, "
                               "latency_ms_sum, latency_count, encode(clients_hll, 'hex')",
                         " FROM demand_hourly WHERE resource_id = $1::uuid AND hour >= "
                         "$2::timestamptz AND hour < $3::timestamptz ORDER BY hour, origin_region"),
            resource_id, ToSqlTime(from), ToSqlTime(to));
        std::vector<DemandRow> out;
        out.reserve(rows.size());
        for (const auto& r : rows) {
          DemandRow d = RequestsOf(r);
          if (!requests_only) {
            d.sums.bytes_in = r[3].as<int64_t>();
            d.sums.bytes_out = r[4].as<int64_t>();
            d.sums.cpu_millis = r[5].as<double>();
            d.sums.memory_bytes = r[6].as<double>();
            d.sums.latency_ms_sum = r[7].as<double>();
            d.sums.latency_count = r[8].as<int64_t>();
            d.clients_sketch = DecodeHex(r[9].as<std::string>());
          }
          out.push_back(std::move(d));
        }
        return out;
      });
}

absl::StatusOr<std::vector<DemandRow>> TelemetryRepository::OthersRequests(
    const std::string& resource_id, const std::vector<std::string>& regions, absl::Time from,
    absl::Time to) {
  if (!LooksLikeUuid(resource_id) || regions.empty()) return std::vector<DemandRow>{};
  SqlArray names;
  for (const std::string& r : regions) names.AddText(r);
  const std::string region_array = names.Take();
  return pool_->Run(
      "reading other resources' requests",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<DemandRow>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            absl::StrCat("SELECT origin_region, ", SP_SQL_UTC("hour"),
                         ", sum(requests)::bigint FROM demand_hourly WHERE resource_id <> "
                         "$1::uuid AND origin_region = ANY($2::text[]) AND hour >= "
                         "$3::timestamptz AND hour < $4::timestamptz GROUP BY origin_region, hour "
                         "ORDER BY hour, origin_region"),
            resource_id, region_array, ToSqlTime(from), ToSqlTime(to));
        std::vector<DemandRow> out;
        out.reserve(rows.size());
        for (const auto& r : rows) out.push_back(RequestsOf(r));
        return out;
      });
}

absl::StatusOr<std::vector<std::string>> TelemetryRepository::ResourcesWithRequests(
    const std::vector<std::string>& regions, absl::Time from, absl::Time to, int limit) {
  SqlArray names;
  for (const std::string& r : regions) names.AddText(r);
  const std::string region_array = names.Take();
  return pool_->Run(
      "finding resources with demand from regions",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<std::string>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            "SELECT d.resource_id::text FROM demand_hourly d JOIN resources s ON s.id = "
            "d.resource_id AND s.deleted_at IS NULL WHERE d.origin_region = ANY($1::text[]) AND "
            "d.hour >= $2::timestamptz AND d.hour < $3::timestamptz GROUP BY d.resource_id "
            "HAVING sum(d.requests) > 0 ORDER BY sum(d.requests) DESC, d.resource_id LIMIT $4",
            region_array, ToSqlTime(from), ToSqlTime(to), limit);
        std::vector<std::string> out;
        for (const auto& r : rows) out.push_back(r[0].as<std::string>());
        return out;
      });
}

absl::StatusOr<std::map<std::string, double>> TelemetryRepository::BytesPerRequest(
    const std::string& resource_id, absl::Time from, absl::Time to) {
  if (!LooksLikeUuid(resource_id)) return std::map<std::string, double>{};
  return pool_->Run(
      "reading bytes per request",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::map<std::string, double>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            "SELECT origin_region, sum(bytes_out)::double precision / sum(requests) FROM "
            "demand_hourly WHERE resource_id = $1::uuid AND hour >= $2::timestamptz AND hour < "
            "$3::timestamptz GROUP BY origin_region HAVING sum(requests) > 0",
            resource_id, ToSqlTime(from), ToSqlTime(to));
        std::map<std::string, double> out;
        for (const auto& r : rows) out[r[0].as<std::string>()] = r[1].as<double>();
        return out;
      });
}

absl::StatusOr<bool> TelemetryRepository::ResourceExists(const std::string& resource_id) {
  if (!LooksLikeUuid(resource_id)) return false;
  return pool_->Run("looking up a resource", [&](pqxx::connection& conn) -> absl::StatusOr<bool> {
    pqxx::read_transaction txn(conn);
    return !txn.exec_params("SELECT 1 FROM resources WHERE id = $1::uuid", resource_id).empty();
  });
}

absl::Status TelemetryRepository::UpsertAffinity(absl::Span<const AffinityRow> rows) {
  if (rows.empty()) return absl::OkStatus();
  return pool_->Run("recording client affinity", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    // The rows go to a staging table of this session in binary COPY (no parsing of addresses,
    // UUIDs and times), then are merged in one statement.
    EnsureStagingTable(txn, "client_affinity_staging",
                       "resource_id uuid, client_key text, instance_id uuid, origin_region text, "
                       "last_seen timestamptz");
    BinaryCopy copy(txn, "client_affinity_staging",
                    {"resource_id", "client_key", "instance_id", "origin_region", "last_seen"});
    for (const AffinityRow& r : rows) {
      std::string* out = copy.BeginRow();
      AppendBinaryUuid(r.resource_id, out);
      AppendBinaryText(r.client_key, out);
      r.instance_id.empty() ? AppendBinaryNull(out) : AppendBinaryUuid(r.instance_id, out);
      AppendBinaryText(r.origin_region, out);
      AppendBinaryTime(r.last_seen, out);
    }
    copy.Complete();
    // A client twice in one call keeps its newest sighting (ON CONFLICT may touch a row once).
    txn.exec(
        "INSERT INTO client_affinity AS a (resource_id, client_key, instance_id, origin_region, "
        "last_seen) SELECT DISTINCT ON (resource_id, client_key) resource_id, client_key, "
        "instance_id, origin_region, last_seen FROM client_affinity_staging ORDER BY resource_id, "
        "client_key, last_seen DESC ON CONFLICT (resource_id, client_key) DO UPDATE SET "
        "instance_id = COALESCE(EXCLUDED.instance_id, a.instance_id), origin_region = "
        "EXCLUDED.origin_region, last_seen = EXCLUDED.last_seen WHERE a.last_seen <= "
        "EXCLUDED.last_seen");
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<AffinityRow>> TelemetryRepository::Affinity(
    const std::string& resource_id) {
  if (!LooksLikeUuid(resource_id)) return std::vector<AffinityRow>{};
  return pool_->Run(
      "reading client affinity",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<AffinityRow>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            absl::StrCat("SELECT resource_id::text, client_key, COALESCE(instance_id::text, ''), "
                         "origin_region, ",
                         SP_SQL_UTC("last_seen"),
                         " FROM client_affinity WHERE resource_id = $1::uuid ORDER BY "
                         "client_key"),
            resource_id);
        std::vector<AffinityRow> out;
        for (const auto& r : rows) {
          out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
                         r[3].as<std::string>(), FromSqlTime(r[4].as<std::string>())});
        }
        return out;
      });
}

absl::StatusOr<std::vector<GeoNetworkRow>> TelemetryRepository::GeoNetworks() {
  return pool_->Run("reading client networks",
                    [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<GeoNetworkRow>> {
                      pqxx::read_transaction txn(conn);
                      std::vector<GeoNetworkRow> out;
                      for (const auto& r : txn.exec(
                               "SELECT network::text, region FROM geo_networks ORDER BY network")) {
                        out.push_back({r[0].as<std::string>(), r[1].as<std::string>()});
                      }
                      return out;
                    });
}

absl::Status TelemetryRepository::UpsertGeoNetwork(const GeoNetworkRow& row, absl::Time now) {
  return pool_->Run("recording a client network", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    txn.exec_params(
        "INSERT INTO geo_networks (network, region, updated_at) VALUES ($1::cidr, $2, "
        "$3::timestamptz) ON CONFLICT (network) DO UPDATE SET region = EXCLUDED.region, "
        "updated_at = EXCLUDED.updated_at",
        row.network, row.region, ToSqlTime(now));
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<ResourceDirectoryRows> TelemetryRepository::LoadResourceDirectory() {
  return pool_->Run(
      "loading resources for ingest",
      [&](pqxx::connection& conn) -> absl::StatusOr<ResourceDirectoryRows> {
        pqxx::read_transaction txn(conn);
        ResourceDirectoryRows out;
        // A resource whose telemetry is to be purged is no longer one events may name.
        for (const auto& r :
             txn.exec("SELECT r.id::text, i.id::text, i.location FROM resources r LEFT JOIN "
                      "instances i ON "
                      "i.resource_id = r.id WHERE NOT EXISTS (SELECT 1 FROM reservations rv WHERE "
                      "rv.resource_id = r.id AND rv.telemetry_purge_requested_at IS NOT NULL)")) {
          auto& instances = out.instances_by_resource[r[0].as<std::string>()];
          if (!r[1].is_null()) {
            instances.insert(r[1].as<std::string>());
            out.location_by_instance[r[1].as<std::string>()] = r[2].as<std::string>();
          }
        }
        for (const auto& r : txn.exec(
                 "SELECT resource_id::text, owner_team FROM reservations WHERE owner_team IS NOT "
                 "NULL")) {
          out.team_by_resource[r[0].as<std::string>()] = r[1].as<std::string>();
        }
        for (const auto& r : txn.exec("SELECT name FROM regions")) {
          out.regions.insert(r[0].as<std::string>());
        }
        return out;
      });
}

}  // namespace shadowplane::store
