#include "store/cutover_repository.h"

#include <pqxx/pqxx>

#include "store/location_repository.h"
#include "store/sql_time.h"

namespace shadowplane::store {

absl::Status CutoverRepository::Record(const CutoverRow& c) {
  return pool_->Run("recording a cutover", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    std::optional<std::string> migration;
    if (!c.migration_id.empty()) migration = c.migration_id;
    txn.exec_params(
        "INSERT INTO migration_cutovers (migration_id, at, dirty_bytes, dirty_files, "
        "freeze_seconds) VALUES ($1::uuid, $2::timestamptz, $3, $4, $5)",
        migration, ToSqlTime(c.at), c.dirty_bytes, c.dirty_files, c.freeze_seconds);
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<CutoverRow>> CutoverRepository::Recent(int limit) {
  return pool_->Run("reading cutovers",
                    [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<CutoverRow>> {
                      pqxx::read_transaction txn(conn);
                      const pqxx::result rows = txn.exec_params(
            "SELECT COALESCE(migration_id::text, ''), " SP_SQL_UTC("at") ", dirty_bytes, dirty_files, freeze_seconds FROM "
            "migration_cutovers ORDER BY at DESC, id DESC LIMIT $1",
            limit);
                      std::vector<CutoverRow> out;
                      for (const auto& r : rows) {
                        out.push_back({r[0].as<std::string>(), FromSqlTime(r[1].as<std::string>()),
                                       r[2].as<int64_t>(), r[3].as<int64_t>(), r[4].as<double>()});
                      }
                      return out;
                    });
}

absl::Status CutoverRepository::SaveModel(const FreezeModelRow& m) {
  return pool_->Run("saving the freeze model", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    txn.exec_params(
        "INSERT INTO freeze_model (id, base_seconds, seconds_per_mib, seconds_per_file, "
        "residual_p95_seconds, samples, fitted_at) VALUES (1, $1, $2, $3, $4, $5, "
        "$6::timestamptz) ON CONFLICT (id) DO UPDATE SET base_seconds = EXCLUDED.base_seconds, "
        "seconds_per_mib = EXCLUDED.seconds_per_mib, seconds_per_file = "
        "EXCLUDED.seconds_per_file, residual_p95_seconds = EXCLUDED.residual_p95_seconds, "
        "samples = EXCLUDED.samples, fitted_at = EXCLUDED.fitted_at",
        m.base_seconds, m.seconds_per_mib, m.seconds_per_file, m.residual_p95_seconds, m.samples,
        ToSqlTime(m.fitted_at));
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<std::optional<FreezeModelRow>> CutoverRepository::LoadModel() {
  return pool_->Run(
      "reading the freeze model",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::optional<FreezeModelRow>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result r = txn.exec(
            "SELECT base_seconds, seconds_per_mib, seconds_per_file, residual_p95_seconds, "
            "samples, " SP_SQL_UTC("fitted_at") " FROM freeze_model WHERE id = 1");
        if (r.empty()) return std::optional<FreezeModelRow>();
        FreezeModelRow m;
        m.base_seconds = r[0][0].as<double>();
        m.seconds_per_mib = r[0][1].as<double>();
        m.seconds_per_file = r[0][2].as<double>();
        m.residual_p95_seconds = r[0][3].as<double>();
        m.samples = r[0][4].as<int>();
        m.fitted_at = FromSqlTime(r[0][5].as<std::string>());
        return std::optional<FreezeModelRow>(m);
      });
}

}  // namespace shadowplane::store
