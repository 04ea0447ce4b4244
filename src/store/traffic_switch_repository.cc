#include "store/traffic_switch_repository.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "store/location_repository.h"
#include "store/sql_time.h"
#include "store/uuid.h"

namespace shadowplane::store {

absl::StatusOr<int64_t> TrafficSwitchRepository::Start(const TrafficSwitchRecord& r) {
  if (!LooksLikeUuid(r.resource_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("resource_id \"", r.resource_id, "\" is not a UUID"));
  }
  return pool_->Run(
      "recording a traffic switch", [&](pqxx::connection& conn) -> absl::StatusOr<int64_t> {
        pqxx::work txn(conn);
        const int64_t id = txn.exec_params1(
                                  "INSERT INTO traffic_switches (resource_id, provider, "
                                  "service_name, from_target, "
                                  "to_target, urgent, reason, started_at) VALUES ($1::uuid, $2, "
                                  "$3, $4, $5, $6, $7, "
                                  "$8::timestamptz) RETURNING id",
                                  r.resource_id, r.provider, r.service_name, r.from_target,
                                  r.to_target, r.urgent, r.reason, ToSqlTime(r.started_at))[0]
                               .as<int64_t>();
        txn.commit();
        return id;
      });
}

absl::Status TrafficSwitchRepository::Finish(int64_t id, absl::Time finished_at, bool ok,
                                             const std::string& error) {
  return pool_->Run("completing a traffic switch", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    std::optional<std::string> why;
    if (!ok) why = error;
    txn.exec_params(
        "UPDATE traffic_switches SET finished_at = $2::timestamptz, result = $3, error = $4 "
        "WHERE id = $1",
        id, ToSqlTime(finished_at), ok ? "ok" : "failed", why);
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<TrafficSwitchRecord>> TrafficSwitchRepository::ForResource(
    const std::string& resource_id, int limit) {
  if (!LooksLikeUuid(resource_id)) return std::vector<TrafficSwitchRecord>{};
  return pool_->Run(
      "reading traffic switches",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<TrafficSwitchRecord>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            "SELECT id, resource_id::text, provider, service_name, from_target, to_target, "
            "urgent, reason, " SP_SQL_UTC("started_at") ", " SP_SQL_UTC("finished_at") ", result, COALESCE(error, '') FROM "
            "traffic_switches WHERE resource_id = $1::uuid ORDER BY started_at DESC, id DESC "
            "LIMIT $2",
            resource_id, limit);
        std::vector<TrafficSwitchRecord> out;
        for (const auto& row : rows) {
          TrafficSwitchRecord r;
          r.id = row[0].as<int64_t>();
          r.resource_id = row[1].as<std::string>();
          r.provider = row[2].as<std::string>();
          r.service_name = row[3].as<std::string>();
          r.from_target = row[4].as<std::string>();
          r.to_target = row[5].as<std::string>();
          r.urgent = row[6].as<bool>();
          r.reason = row[7].as<std::string>();
          r.started_at = FromSqlTime(row[8].as<std::string>());
          if (!row[9].is_null()) r.finished_at = FromSqlTime(row[9].as<std::string>());
          r.result = row[10].as<std::string>();
          r.error = row[11].as<std::string>();
          out.push_back(std::move(r));
        }
        return out;
      });
}

}  // namespace shadowplane::store
