#include "store/sync_run_repository.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "store/location_repository.h"
#include "store/sql_time.h"
#include "store/uuid.h"

namespace shadowplane::store {

namespace {

constexpr char kColumns[] =
    "id, reservation_id::text, source_instance::text, target_instance::text, trigger, mode, "
    SP_SQL_UTC("started_at") ", "
    SP_SQL_UTC("finished_at") ", "
    "duration_seconds, result, COALESCE(error, ''), files_total, files_transferred, "
    "files_deleted, bytes_total, bytes_literal, bytes_matched, bytes_signature, bytes_wire, "
    "dirty_files, dirty_bytes, COALESCE(source_tree_hash, ''), COALESCE(target_tree_hash, ''), "
    "identical";

SyncRunRecord FromRow(const pqxx::row& row) {
  SyncRunRecord r;
  r.id = row[0].as<int64_t>();
  r.reservation_id = row[1].as<std::string>();
  r.source_instance = row[2].as<std::string>();
  r.target_instance = row[3].as<std::string>();
  r.trigger = row[4].as<std::string>();
  r.mode = row[5].as<std::string>();
  r.started_at = FromSqlTime(row[6].as<std::string>());
  r.finished_at = FromSqlTime(row[7].as<std::string>());
  r.duration_seconds = row[8].as<double>();
  r.result = row[9].as<std::string>();
  r.error = row[10].as<std::string>();
  r.files_total = row[11].as<int64_t>();
  r.files_transferred = row[12].as<int64_t>();
  r.files_deleted = row[13].as<int64_t>();
  r.bytes_total = row[14].as<int64_t>();
  r.bytes_literal = row[15].as<int64_t>();
  r.bytes_matched = row[16].as<int64_t>();
  r.bytes_signature = row[17].as<int64_t>();
  r.bytes_wire = row[18].as<int64_t>();
  r.dirty_files = row[19].as<int64_t>();
  r.dirty_bytes = row[20].as<int64_t>();
  r.source_tree_hash = row[21].as<std::string>();
  r.target_tree_hash = row[22].as<std::string>();
  if (!row[23].is_null()) r.identical = row[23].as<bool>();
  return r;
}

}  // namespace

absl::Status SyncRunRepository::Record(SyncRunRecord& run) {
  return pool_->Run("recording a sync round", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    std::optional<std::string> error;
    if (!run.error.empty()) error = run.error;
    std::optional<std::string> source_hash, target_hash;
    if (!run.source_tree_hash.empty()) source_hash = run.source_tree_hash;
    if (!run.target_tree_hash.empty()) target_hash = run.target_tree_hash;
    const pqxx::row id = txn.exec_params1(
        "INSERT INTO sync_runs (reservation_id, source_instance, target_instance, trigger, mode, "
        "started_at, finished_at, duration_seconds, result, error, files_total, "
        "files_transferred, files_deleted, bytes_total, bytes_literal, bytes_matched, "
        "bytes_signature, bytes_wire, dirty_files, dirty_bytes, source_tree_hash, "
        "target_tree_hash, identical) VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, "
        "$6::timestamptz, $7::timestamptz, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
        "$19, $20, $21, $22, $23) RETURNING id",
        run.reservation_id, run.source_instance, run.target_instance, run.trigger, run.mode,
        ToSqlTime(run.started_at), ToSqlTime(run.finished_at), run.duration_seconds, run.result,
        error, run.files_total, run.files_transferred, run.files_deleted, run.bytes_total,
        run.bytes_literal, run.bytes_matched, run.bytes_signature, run.bytes_wire, run.dirty_files,
        run.dirty_bytes, source_hash, target_hash, run.identical);
    run.id = id[0].as<int64_t>();
    // The reservation's freshness is its shadow's: a round into a migration's target is not it.
    const bool into_shadow =
        txn.exec_params("SELECT 1 FROM instances WHERE id = $1::uuid AND role = 'shadow'",
                        run.target_instance)
            .size() == 1;
    if (into_shadow && run.result == "ok") {
      txn.exec_params(
          "UPDATE reservations SET last_sync_error = NULL, last_synced_at = "
          "GREATEST(COALESCE(last_synced_at, $2::timestamptz), $2::timestamptz) "
          "WHERE id = $1::uuid",
          run.reservation_id, ToSqlTime(run.started_at));
    } else if (into_shadow) {
      txn.exec_params("UPDATE reservations SET last_sync_error = $2 WHERE id = $1::uuid",
                      run.reservation_id, run.error);
    }
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<SyncRunRecord>> SyncRunRepository::List(
    const std::string& reservation_id, int limit) {
  return pool_->Run("listing sync rounds",
                    [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<SyncRunRecord>> {
                      pqxx::work txn(conn);
                      const pqxx::result rows = txn.exec_params(
                          absl::StrCat("SELECT ", kColumns,
                                       " FROM sync_runs WHERE reservation_id = $1::uuid "
                                       "ORDER BY started_at DESC, id DESC LIMIT $2"),
                          reservation_id, limit);
                      std::vector<SyncRunRecord> runs;
                      for (const pqxx::row& row : rows) runs.push_back(FromRow(row));
                      return runs;
                    });
}

absl::StatusOr<std::vector<ShadowPair>> SyncRunRepository::ActivePairs() {
  return pool_->Run("listing shadow pairs",
                    [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<ShadowPair>> {
                      pqxx::work txn(conn);
                      // The newest instance of each role, as ReservationRepository::Get sees them.
                      const pqxx::result rows = txn.exec(
            "SELECT r.id::text, r.shadow_sync_interval_seconds, "
            SP_SQL_UTC("r.last_synced_at") ", "
            "p.location, s.location FROM reservations r "
            "JOIN LATERAL (SELECT location, state FROM instances WHERE resource_id = "
            "r.resource_id AND role = 'primary' ORDER BY created_at DESC LIMIT 1) p ON true "
            "JOIN LATERAL (SELECT location, state FROM instances WHERE resource_id = "
            "r.resource_id AND role = 'shadow' ORDER BY created_at DESC LIMIT 1) s ON true "
            "WHERE r.state = 'active' AND p.state = 'running' AND s.state = 'running' "
            // A migration syncs its own rounds (and its final one under a freeze): periodic
            // rounds wait until it no longer holds the resource.
            "AND NOT EXISTS (SELECT 1 FROM migrations m WHERE m.resource_id = r.resource_id AND "
            "m.state IN ('PLANNED', 'PREPARING_TARGET', 'PRECOPY', 'CUTOVER', 'RETIRING_SOURCE', "
            "'PROMOTING', 'ROLLING_BACK')) ORDER BY r.id");
                      std::vector<ShadowPair> pairs;
                      for (const pqxx::row& row : rows) {
                        ShadowPair pair;
                        pair.reservation_id = row[0].as<std::string>();
                        pair.interval_seconds = row[1].as<double>();
                        if (!row[2].is_null())
                          pair.last_synced_at = FromSqlTime(row[2].as<std::string>());
                        pair.primary_location = row[3].as<std::string>();
                        pair.shadow_location = row[4].as<std::string>();
                        pairs.push_back(std::move(pair));
                      }
                      return pairs;
                    });
}

absl::StatusOr<TransferStats> SyncRunRepository::Transfer(const std::string& reservation_id,
                                                          const std::string& target_location) {
  if (!LooksLikeUuid(reservation_id)) return TransferStats{};
  return pool_->Run(
      "reading sync rounds' transfer rates",
      [&](pqxx::connection& conn) -> absl::StatusOr<TransferStats> {
        pqxx::read_transaction txn(conn);
        const pqxx::result r = txn.exec_params(
            "WITH recent AS (SELECT * FROM sync_runs WHERE reservation_id = $1::uuid AND result "
            "= 'ok' ORDER BY started_at DESC LIMIT 50) SELECT COALESCE(sum(s.bytes_total) "
            "FILTER (WHERE s.mode = 'checksum' AND t.location = $2), 0)::float8, "
            "COALESCE(sum(s.duration_seconds) FILTER (WHERE s.mode = 'checksum' AND t.location = "
            "$2), 0)::float8, COALESCE(sum(s.dirty_bytes), 0)::float8, "
            "COALESCE(sum(s.duration_seconds), 0)::float8, count(*) FROM recent s JOIN instances "
            "t ON t.id = s.target_instance",
            reservation_id, target_location);
        TransferStats out;
        const double scanned = r[0][0].as<double>();
        const double scan_seconds = r[0][1].as<double>();
        const double dirty = r[0][2].as<double>();
        const double seconds = r[0][3].as<double>();
        if (scan_seconds > 0) out.bandwidth_bytes_per_second = scanned / scan_seconds;
        if (seconds > 0) out.dirty_bytes_per_second = dirty / seconds;
        out.rounds = r[0][4].as<int>();
        return out;
      });
}

}  // namespace shadowplane::store
