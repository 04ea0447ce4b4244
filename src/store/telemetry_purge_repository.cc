#include "store/telemetry_purge_repository.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "store/sql_time.h"
#include "store/uuid.h"

namespace shadowplane::store {

absl::Status TelemetryPurgeRepository::Request(const std::string& reservation_id, absl::Time now) {
  if (!LooksLikeUuid(reservation_id)) {
    return absl::NotFoundError(absl::StrCat("reservation '", reservation_id, "' does not exist"));
  }
  return pool_->Run("recording a telemetry purge request",
                    [&](pqxx::connection& conn) -> absl::Status {
                      pqxx::work txn(conn);
                      const pqxx::result r = txn.exec_params(
                          "UPDATE reservations SET telemetry_purge_requested_at = "
                          "COALESCE(telemetry_purge_requested_at, $2::timestamptz) "
                          "WHERE id = $1::uuid",
                          reservation_id, ToSqlTime(now));
                      txn.commit();
                      if (r.affected_rows() == 0) {
                        return absl::NotFoundError(
                            absl::StrCat("reservation '", reservation_id, "' does not exist"));
                      }
                      return absl::OkStatus();
                    });
}

absl::StatusOr<std::vector<PurgeDue>> TelemetryPurgeRepository::Due(
    absl::Duration settle, int limit, const std::string& reservation_id) {
  if (!reservation_id.empty() && !LooksLikeUuid(reservation_id)) return std::vector<PurgeDue>{};
  return pool_->Run("listing telemetry purges due",
                    [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<PurgeDue>> {
                      pqxx::read_transaction txn(conn);
                      const pqxx::result r = txn.exec_params(
            "SELECT id::text, resource_id::text, " SP_SQL_UTC(
                "telemetry_purge_requested_at") " FROM reservations "
                                                "WHERE telemetry_purge_requested_at IS NOT NULL "
                                                "AND state IN ('released', 'failed') "
                                                "AND (telemetry_purged_at IS NULL OR "
                                                "telemetry_purged_at < "
                                                "telemetry_purge_requested_at + "
                                                "make_interval(secs => $1)) "
                                                "AND ($2 = '' OR id::text = $2) "
                                                "ORDER BY telemetry_purge_requested_at LIMIT $3",
            absl::ToDoubleSeconds(settle), reservation_id, limit);
                      std::vector<PurgeDue> out;
                      for (const auto& row : r) {
                        out.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                                       FromSqlTime(row[2].as<std::string>())});
                      }
                      return out;
                    });
}

absl::StatusOr<PurgedTelemetry> TelemetryPurgeRepository::Purge(const PurgeDue& due,
                                                                absl::Time now) {
  if (!LooksLikeUuid(due.reservation_id) || !LooksLikeUuid(due.resource_id)) {
    return absl::InvalidArgumentError("purge of a reservation or resource that is not a UUID");
  }
  return pool_->Run(
      "purging a resource's telemetry",
      [&](pqxx::connection& conn) -> absl::StatusOr<PurgedTelemetry> {
        pqxx::work txn(conn);
        PurgedTelemetry out;
        auto remove = [&](const char* table) {
          return static_cast<int64_t>(
              txn.exec_params(absl::StrCat("DELETE FROM ", table, " WHERE resource_id = $1::uuid"),
                              due.resource_id)
                  .affected_rows());
        };
        out.access_rows = remove("client_access_log");
        // By instance: the table's index is (instance_id, ts); one on resource_id would cost
        // every ingest a write for a rare purge.
        out.utilization_rows = static_cast<int64_t>(
            txn.exec_params("DELETE FROM instance_utilization WHERE instance_id IN (SELECT id FROM "
                            "instances WHERE resource_id = $1::uuid)",
                            due.resource_id)
                .affected_rows());
        out.demand_rows = remove("demand_hourly");
        out.affinity_rows = remove("client_affinity");
        txn.exec_params(
            "UPDATE reservations SET telemetry_purged_at = $2::timestamptz WHERE id = $1::uuid",
            due.reservation_id, ToSqlTime(now));
        txn.commit();
        return out;
      });
}

}  // namespace shadowplane::store
