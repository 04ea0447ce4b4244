#include "store/disruption_repository.h"

#include <pqxx/pqxx>

#include "store/sql_array.h"
#include "store/sql_time.h"
#include "store/uuid.h"

namespace shadowplane::store {

absl::Status DisruptionRepository::Save(const DisruptionRecord& d, bool* saved) {
  if (!LooksLikeUuid(d.migration_id)) {
    return absl::InvalidArgumentError("migration_id is not a UUID");
  }
  return pool_->Run(
      "recording a migration's disruptions", [&](pqxx::connection& conn) -> absl::Status {
        pqxx::work txn(conn);
        const pqxx::result r = txn.exec_params(
            "INSERT INTO migration_disruptions (migration_id, measured_at, "
            "affine_clients, disrupted_affine_clients, disrupted_other_clients, "
            "held_requests, failed_requests, forwarded_requests, "
            "closed_connections, stale_reads, truncated, error) VALUES ($1::uuid, "
            "$2::timestamptz, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
            "ON CONFLICT (migration_id) DO NOTHING RETURNING 1",
            d.migration_id, ToSqlTime(d.measured_at), d.affine_clients, d.disrupted_affine_clients,
            d.disrupted_other_clients, d.held_requests, d.failed_requests, d.forwarded_requests,
            d.closed_connections, d.stale_reads, d.truncated, d.error);
        txn.commit();
        if (saved != nullptr) *saved = !r.empty();
        return absl::OkStatus();
      });
}

absl::StatusOr<std::optional<DisruptionRecord>> DisruptionRepository::Get(
    const std::string& migration_id) {
  if (!LooksLikeUuid(migration_id)) return std::optional<DisruptionRecord>();
  return pool_->Run("reading a migration's disruptions",
                    [&](pqxx::connection& conn) -> absl::StatusOr<std::optional<DisruptionRecord>> {
                      pqxx::read_transaction txn(conn);
                      const pqxx::result r = txn.exec_params(
            "SELECT " SP_SQL_UTC("measured_at") ", affine_clients, disrupted_affine_clients, "
            "disrupted_other_clients, held_requests, failed_requests, forwarded_requests, "
            "closed_connections, stale_reads, truncated, error FROM migration_disruptions "
            "WHERE migration_id = $1::uuid",
            migration_id);
                      if (r.empty()) return std::optional<DisruptionRecord>();
                      DisruptionRecord d;
                      d.migration_id = migration_id;
                      d.measured_at = FromSqlTime(r[0][0].as<std::string>());
                      d.affine_clients = r[0][1].as<int64_t>();
                      d.disrupted_affine_clients = r[0][2].as<int64_t>();
                      d.disrupted_other_clients = r[0][3].as<int64_t>();
                      d.held_requests = r[0][4].as<int64_t>();
                      d.failed_requests = r[0][5].as<int64_t>();
                      d.forwarded_requests = r[0][6].as<int64_t>();
                      d.closed_connections = r[0][7].as<int64_t>();
                      d.stale_reads = r[0][8].as<int64_t>();
                      d.truncated = r[0][9].as<bool>();
                      d.error = r[0][10].as<std::string>();
                      return std::optional<DisruptionRecord>(std::move(d));
                    });
}

absl::StatusOr<int64_t> DisruptionRepository::CountAffine(const std::string& resource_id,
                                                          absl::Time since) {
  absl::StatusOr<std::map<std::string, int64_t>> counts =
      CountAffine(std::vector<std::string>{resource_id}, since);
  if (!counts.ok()) return counts.status();
  const auto it = counts->find(resource_id);
  return it == counts->end() ? 0 : it->second;
}

absl::StatusOr<std::map<std::string, int64_t>> DisruptionRepository::CountAffine(
    const std::vector<std::string>& resource_ids, absl::Time since) {
  const std::optional<std::string> ids = UuidArray(resource_ids);
  if (!ids.has_value()) return std::map<std::string, int64_t>{};
  return pool_->Run(
      "counting affine clients",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::map<std::string, int64_t>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result r = txn.exec_params(
            "SELECT resource_id::text, count(*) FROM client_affinity WHERE resource_id = "
            "ANY($1::uuid[]) AND last_seen >= $2::timestamptz GROUP BY resource_id",
            *ids, ToSqlTime(since));
        std::map<std::string, int64_t> out;
        for (const auto& row : r) out[row[0].as<std::string>()] = row[1].as<int64_t>();
        return out;
      });
}

absl::StatusOr<std::vector<std::string>> DisruptionRepository::AffineAmong(
    const std::string& resource_id, const std::vector<std::string>& clients, absl::Time since) {
  if (!LooksLikeUuid(resource_id) || clients.empty()) return std::vector<std::string>{};
  SqlArray keys;
  for (const std::string& c : clients) keys.AddText(c);
  const std::string keys_text = keys.Take();
  return pool_->Run(
      "reading affine clients",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<std::string>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result r = txn.exec_params(
            "SELECT client_key FROM client_affinity WHERE resource_id = $1::uuid AND client_key "
            "= ANY($2::text[]) AND last_seen >= $3::timestamptz",
            resource_id, keys_text, ToSqlTime(since));
        std::vector<std::string> out;
        for (const auto& row : r) out.push_back(row[0].as<std::string>());
        return out;
      });
}

}  // namespace shadowplane::store
