#include "store/spot_repository.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "store/sql_time.h"
#include "store/uuid.h"

namespace shadowplane::store {
namespace {

constexpr char kFallbackSelect[] =
    "SELECT f.interruption_id::text, f.instance_id::text, f.resource_id::text, f.role, f.state, "
    "COALESCE(f.migration_id::text, ''), f.outcome, f.detail, " SP_SQL_UTC(
        "f.traffic_at") ", " SP_SQL_UTC("f.finished_at") ", f.attempts, i.location, " SP_SQL_UTC("i.received_at") ", " SP_SQL_UTC("i.deadline") " FROM spot_fallbacks f JOIN spot_interruptions i ON i.id = f.interruption_id ";

SpotFallbackRecord FallbackFromRow(const pqxx::row& r) {
  SpotFallbackRecord f;
  f.interruption_id = r[0].as<std::string>();
  f.instance_id = r[1].as<std::string>();
  f.resource_id = r[2].as<std::string>();
  f.role = r[3].as<std::string>();
  f.state = r[4].as<std::string>();
  f.migration_id = r[5].as<std::string>();
  f.outcome = r[6].as<std::string>();
  f.detail = r[7].as<std::string>();
  if (!r[8].is_null()) f.traffic_at = FromSqlTime(r[8].as<std::string>());
  if (!r[9].is_null()) f.finished_at = FromSqlTime(r[9].as<std::string>());
  f.attempts = r[10].as<int>();
  f.location = r[11].as<std::string>();
  f.received_at = FromSqlTime(r[12].as<std::string>());
  f.deadline = FromSqlTime(r[13].as<std::string>());
  return f;
}

std::optional<std::string> OptionalTime(const std::optional<absl::Time>& t) {
  if (!t.has_value()) return std::nullopt;
  return ToSqlTime(*t);
}

}  // namespace

absl::StatusOr<std::vector<SpotInstance>> SpotRepository::Affected(
    const std::string& location, const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    if (!LooksLikeUuid(id)) {
      return absl::NotFoundError(absl::StrCat("instance ", id.substr(0, 64), " not found"));
    }
  }
  return pool_->Run(
      "reading instances on spot",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<SpotInstance>> {
        pqxx::read_transaction txn(conn);
        std::vector<SpotInstance> out;
        auto read = [&](const pqxx::result& rows) {
          for (const auto& row : rows) {
            SpotInstance i;
            i.instance_id = row[0].as<std::string>();
            i.resource_id = row[1].as<std::string>();
            i.role = row[2].as<std::string>();
            i.location = row[3].as<std::string>();
            i.capacity_type = row[4].as<std::string>();
            i.state = row[5].as<std::string>();
            i.reservation_active = row[6].as<bool>();
            out.push_back(std::move(i));
          }
        };
        constexpr char kSelect[] =
            "SELECT i.id::text, i.resource_id::text, i.role, i.location, i.capacity_type, "
            "i.state, COALESCE(r.state = 'active', false) FROM instances i LEFT JOIN "
            "reservations r ON r.resource_id = i.resource_id ";
        if (ids.empty()) {
          read(txn.exec_params(
              absl::StrCat(kSelect,
                           "WHERE i.location = $1 AND i.capacity_type = 'spot' AND i.state NOT "
                           "IN ('stopped', 'failed') AND r.state = 'active' ORDER BY i.id"),
              location));
          return out;
        }
        for (const std::string& id : ids) {
          const size_t before = out.size();
          read(txn.exec_params(absl::StrCat(kSelect, "WHERE i.id = $1::uuid"), id));
          if (out.size() == before) {
            return absl::NotFoundError(absl::StrCat("instance ", id, " not found"));
          }
        }
        return out;
      });
}

absl::StatusOr<std::string> SpotRepository::Record(const SpotInterruptionRecord& in) {
  return pool_->Run(
      "recording a spot interruption", [&](pqxx::connection& conn) -> absl::StatusOr<std::string> {
        pqxx::work txn(conn);
        const std::string id =
            txn.exec_params1(
                   "INSERT INTO spot_interruptions (location, received_at, deadline, "
                   "reason) VALUES ($1, $2::timestamptz, $3::timestamptz, $4) "
                   "RETURNING id::text",
                   in.location, ToSqlTime(in.received_at), ToSqlTime(in.deadline), in.reason)[0]
                .as<std::string>();
        for (const SpotFallbackRecord& f : in.fallbacks) {
          txn.exec_params(
              "INSERT INTO spot_fallbacks (interruption_id, instance_id, resource_id, role, "
              "state, outcome, detail, finished_at) VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, "
              "$6, $7, $8::timestamptz)",
              id, f.instance_id, f.resource_id, f.role, f.state, f.outcome, f.detail,
              OptionalTime(f.finished_at));
        }
        txn.commit();
        return id;
      });
}

absl::StatusOr<SpotInterruptionRecord> SpotRepository::Get(const std::string& id) {
  if (!LooksLikeUuid(id)) {
    return absl::NotFoundError(absl::StrCat("spot interruption ", id.substr(0, 64), " not found"));
  }
  return pool_->Run(
      "reading a spot interruption",
      [&](pqxx::connection& conn) -> absl::StatusOr<SpotInterruptionRecord> {
        pqxx::read_transaction txn(conn);
        const pqxx::result found =
            txn.exec_params("SELECT id::text, location, " SP_SQL_UTC("received_at") ", " SP_SQL_UTC(
                                "deadline") ", reason FROM spot_interruptions WHERE id = $1::uuid",
                            id);
        if (found.empty()) {
          return absl::NotFoundError(absl::StrCat("spot interruption ", id, " not found"));
        }
        SpotInterruptionRecord out;
        out.id = found[0][0].as<std::string>();
        out.location = found[0][1].as<std::string>();
        out.received_at = FromSqlTime(found[0][2].as<std::string>());
        out.deadline = FromSqlTime(found[0][3].as<std::string>());
        out.reason = found[0][4].as<std::string>();
        for (const auto& row :
             txn.exec_params(absl::StrCat(kFallbackSelect,
                                          "WHERE f.interruption_id = $1::uuid ORDER BY f.role, "
                                          "f.instance_id"),
                             id)) {
          out.fallbacks.push_back(FallbackFromRow(row));
        }
        return out;
      });
}

absl::StatusOr<std::vector<SpotFallbackRecord>> SpotRepository::Pending() {
  return pool_->Run(
      "reading pending spot fallbacks",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<SpotFallbackRecord>> {
        pqxx::read_transaction txn(conn);
        std::vector<SpotFallbackRecord> out;
        for (const auto& row : txn.exec(absl::StrCat(
                 kFallbackSelect, "WHERE f.state = 'pending' ORDER BY i.received_at, f.role"))) {
          out.push_back(FallbackFromRow(row));
        }
        return out;
      });
}

absl::Status SpotRepository::Save(const SpotFallbackRecord& f) {
  return pool_->Run("saving a spot fallback", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    txn.exec_params(
        "UPDATE spot_fallbacks SET state = $3, migration_id = NULLIF($4, '')::uuid, outcome = $5, "
        "detail = $6, traffic_at = $7::timestamptz, finished_at = $8::timestamptz, attempts = $9, "
        "role = $10 WHERE interruption_id = $1::uuid AND instance_id = $2::uuid",
        f.interruption_id, f.instance_id, f.state, f.migration_id, f.outcome, f.detail,
        OptionalTime(f.traffic_at), OptionalTime(f.finished_at), f.attempts, f.role);
    txn.commit();
    return absl::OkStatus();
  });
}

}  // namespace shadowplane::store
