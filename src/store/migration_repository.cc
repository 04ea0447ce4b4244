#include "store/migration_repository.h"

#include <pqxx/pqxx>
#include <stdexcept>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "store/location_repository.h"
#include "store/sql_array.h"
#include "store/sql_time.h"
#include "store/uuid.h"

namespace shadowplane::store {

namespace {

constexpr char kColumns[] =
    "m.id::text, m.request_id, m.resource_id::text, m.state, m.reason, "
    "COALESCE(m.source_instance_id::text, ''), COALESCE(m.target_instance_id::text, ''), "
    "m.target_location, m.target_capacity_type, COALESCE(m.lease_owner, ''), " SP_SQL_UTC(
        "m.lease_expires_at") ", COALESCE(m.error, ''), " SP_SQL_UTC("m.created_at") ", " SP_SQL_UTC(
        "m.updated_at") ", m.kind, m.cancel_requested, " SP_SQL_UTC("m.state_entered_at") ", "
                        "m.attempts, " SP_SQL_UTC("m.next_attempt_at") ", COALESCE(m.last_error, ''), "
                        "m.precopy_rounds, m.bytes_left, m.traffic_prepared, " SP_SQL_UTC(
                            "m.switch_not_before") ", " SP_SQL_UTC("m.freeze_started_at") ", "
                        "m.freeze_seconds, m.final_dirty_bytes, m.final_dirty_files, " SP_SQL_UTC(
                            "m.switched_at") ", m.loss_window_seconds, " SP_SQL_UTC("m.observe_until") ", "
                        "m.forecast_wape, m.paid_off, COALESCE(m.observation_note, ''), " SP_SQL_UTC(
                            "m.switch_requested_at") ", COALESCE(m.decision_id::text, ''), "
                        "m.predicted_saving, m.predicted_confidence, m.realized_saving, m.urgent, " SP_SQL_UTC(
                            "m.cutover_after") ", " SP_SQL_UTC("m.freeze_started_wall") ", " SP_SQL_UTC("m.realized_shift_at");

// Sets every progress column from $2..$22 (see WriteProgress).
constexpr char kSetProgress[] =
    "attempts = $2, next_attempt_at = $3::timestamptz, last_error = NULLIF($4, ''), "
    "precopy_rounds = $5, bytes_left = $6, traffic_prepared = $7, switch_not_before = "
    "$8::timestamptz, freeze_started_at = $9::timestamptz, freeze_seconds = $10, "
    "final_dirty_bytes = $11, final_dirty_files = $12, switched_at = $13::timestamptz, "
    "loss_window_seconds = $14, observe_until = $15::timestamptz, forecast_wape = $16, paid_off = "
    "$17, observation_note = NULLIF($18, ''), switch_requested_at = $19::timestamptz, "
    "realized_saving = $20, freeze_started_wall = $21::timestamptz, realized_shift_at = "
    "$22::timestamptz";

constexpr char kUnfinished[] = "m.state NOT IN ('DONE', 'ROLLED_BACK', 'FAILED')";
// Holding the resource: every unfinished state but OBSERVING.
constexpr char kHolding[] = "m.state NOT IN ('DONE', 'ROLLED_BACK', 'FAILED', 'OBSERVING')";
// Doing work that the concurrency limits count.
constexpr char kWorking[] =
    "m.state IN ('PREPARING_TARGET', 'PRECOPY', 'CUTOVER', 'RETIRING_SOURCE', 'PROMOTING', "
    "'ROLLING_BACK')";

template <typename T>
std::optional<T> Opt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<T>();
}

std::optional<absl::Time> OptTime(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return FromSqlTime(f.as<std::string>());
}

std::optional<std::string> OptSqlTime(const std::optional<absl::Time>& t) {
  if (!t.has_value()) return std::nullopt;
  return ToSqlTime(*t);
}

MigrationRecord FromRow(const pqxx::row& r) {
  MigrationRecord m;
  m.id = r[0].as<std::string>();
  m.request_id = r[1].as<std::string>();
  m.resource_id = r[2].as<std::string>();
  const std::string state = r[3].as<std::string>();
  const std::optional<MigrationState> parsed = ParseState(state);
  // The table's CHECK allows only the names of migration_state.h.
  if (!parsed.has_value()) throw std::runtime_error("migration in unknown state " + state);
  m.state = *parsed;
  m.reason = r[4].as<std::string>();
  m.source_instance_id = r[5].as<std::string>();
  m.target_instance_id = r[6].as<std::string>();
  m.target_location = r[7].as<std::string>();
  m.target_capacity_type = r[8].as<std::string>();
  m.lease_owner = r[9].as<std::string>();
  m.lease_expires_at = OptTime(r[10]);
  m.error = r[11].as<std::string>();
  m.created_at = FromSqlTime(r[12].as<std::string>());
  m.updated_at = FromSqlTime(r[13].as<std::string>());
  m.kind = r[14].as<std::string>();
  m.cancel_requested = r[15].as<bool>();
  m.state_entered_at = OptTime(r[16]);
  MigrationProgress& p = m.progress;
  p.attempts = r[17].as<int>();
  p.next_attempt_at = OptTime(r[18]);
  p.last_error = r[19].as<std::string>();
  p.precopy_rounds = r[20].as<int>();
  p.bytes_left = Opt<int64_t>(r[21]);
  p.traffic_prepared = r[22].as<bool>();
  p.switch_not_before = OptTime(r[23]);
  p.freeze_started_at = OptTime(r[24]);
  p.freeze_seconds = Opt<double>(r[25]);
  p.final_dirty_bytes = Opt<int64_t>(r[26]);
  p.final_dirty_files = Opt<int64_t>(r[27]);
  p.switched_at = OptTime(r[28]);
  p.loss_window_seconds = Opt<double>(r[29]);
  p.observe_until = OptTime(r[30]);
  p.forecast_wape = Opt<double>(r[31]);
  p.paid_off = Opt<bool>(r[32]);
  p.observation_note = r[33].as<std::string>();
  p.switch_requested_at = OptTime(r[34]);
  m.decision_id = r[35].as<std::string>();
  m.predicted_saving = Opt<double>(r[36]);
  m.predicted_confidence = Opt<double>(r[37]);
  p.realized_saving = Opt<double>(r[38]);
  m.urgent = r[39].as<bool>();
  m.cutover_after = OptTime(r[40]);
  p.freeze_started_wall = OptTime(r[41]);
  p.realized_shift_at = OptTime(r[42]);
  return m;
}

// Writes `p` into the progress columns of migration `id`.
void WriteProgress(pqxx::transaction_base& txn, const std::string& id, const MigrationProgress& p) {
  txn.exec_params(absl::StrCat("UPDATE migrations SET ", kSetProgress, " WHERE id = $1::uuid"), id,
                  p.attempts, OptSqlTime(p.next_attempt_at), p.last_error, p.precopy_rounds,
                  p.bytes_left, p.traffic_prepared, OptSqlTime(p.switch_not_before),
                  OptSqlTime(p.freeze_started_at), p.freeze_seconds, p.final_dirty_bytes,
                  p.final_dirty_files, OptSqlTime(p.switched_at), p.loss_window_seconds,
                  OptSqlTime(p.observe_until), p.forecast_wape, p.paid_off, p.observation_note,
                  OptSqlTime(p.switch_requested_at), p.realized_saving,
                  OptSqlTime(p.freeze_started_wall), OptSqlTime(p.realized_shift_at));
}

std::optional<std::string> NonEmpty(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

std::optional<MigrationRecord> ByRequestId(pqxx::transaction_base& txn, const std::string& id) {
  const pqxx::result r = txn.exec_params(
      absl::StrCat("SELECT ", kColumns, " FROM migrations m WHERE m.request_id = $1"), id);
  if (r.empty()) return std::nullopt;
  return FromRow(r[0]);
}

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

}  // namespace

absl::StatusOr<MigrationRecord> MigrationRepository::Create(const MigrationRecord& m,
                                                            absl::Time now, bool* created) {
  *created = false;
  absl::StatusOr<MigrationRecord> out = pool_->Run(
      "recording a migration", [&](pqxx::connection& conn) -> absl::StatusOr<MigrationRecord> {
        pqxx::work txn(conn);
        if (auto existing = ByRequestId(txn, m.request_id)) return *existing;
        const pqxx::result active = txn.exec_params(
            absl::StrCat("SELECT m.id::text, m.state FROM migrations m WHERE m.resource_id = "
                         "$1::uuid AND ",
                         kHolding),
            m.resource_id);
        if (!active.empty()) {
          return absl::FailedPreconditionError(
              absl::StrCat("resource ", m.resource_id, " is already migrating (migration ",
                           active[0][0].as<std::string>(), ", ", active[0][1].as<std::string>(),
                           "): one migration per resource at a time"));
        }
        const std::string at = ToSqlTime(now);
        const pqxx::result inserted = txn.exec_params(
            absl::StrCat(
                "WITH m AS (INSERT INTO migrations (request_id, resource_id, state, "
                "reason, source_instance_id, target_instance_id, target_location, "
                "target_capacity_type, created_at, updated_at, state_entered_at, kind, "
                "decision_id, predicted_saving, predicted_confidence, urgent, cutover_after) "
                "VALUES ($1, $2::uuid, 'PLANNED', $3, $4::uuid, $5::uuid, $6, $7, "
                "$8::timestamptz, $8::timestamptz, $8::timestamptz, $9, $10::uuid, $11, $12, $13, "
                "$14::timestamptz) RETURNING *) "
                "SELECT ",
                kColumns, " FROM m"),
            m.request_id, m.resource_id, m.reason, NonEmpty(m.source_instance_id),
            NonEmpty(m.target_instance_id), m.target_location, m.target_capacity_type, at, m.kind,
            NonEmpty(m.decision_id), m.predicted_saving, m.predicted_confidence, m.urgent,
            OptSqlTime(m.cutover_after));
        MigrationRecord record = FromRow(inserted[0]);
        // An observation of the resource's previous move ends here: the new move changes what
        // it would measure.
        const pqxx::result ended = txn.exec_params(
            "UPDATE migrations SET state = 'DONE', updated_at = $2::timestamptz, "
            "state_entered_at = $2::timestamptz, observation_note = 'observation ended early by "
            "migration ' || $3 WHERE resource_id = $1::uuid AND state = 'OBSERVING' RETURNING "
            "id::text",
            m.resource_id, at, record.id);
        for (const auto& e : ended) {
          txn.exec_params(
              "INSERT INTO migration_events (migration_id, at, from_state, to_state, detail) "
              "VALUES ($1::uuid, $2::timestamptz, 'OBSERVING', 'DONE', jsonb_build_object("
              "'observation_ended_early_by', $3::text))",
              e[0].as<std::string>(), at, record.id);
        }
        txn.exec_params(
            "INSERT INTO migration_events (migration_id, at, from_state, to_state, detail) "
            "VALUES ($1::uuid, $2::timestamptz, NULL, 'PLANNED', jsonb_build_object('reason', "
            "$3::text, 'kind', $4::text))",
            record.id, at, m.reason, m.kind);
        txn.commit();
        *created = true;
        return record;
      });
  if (absl::IsAlreadyExists(out.status())) {
    // A concurrent Create won the race (same request id, or the same resource): once more, the
    // checks above now find it and answer as for any retry or conflict.
    return Create(m, now, created);
  }
  return out;
}

absl::StatusOr<MigrationRecord> MigrationRepository::Get(const std::string& id) {
  if (!LooksLikeUuid(id)) return absl::NotFoundError(absl::StrCat("migration ", id, " not found"));
  return pool_->Run(
      "reading a migration", [&](pqxx::connection& conn) -> absl::StatusOr<MigrationRecord> {
        pqxx::read_transaction txn(conn);
        const pqxx::result r = txn.exec_params(
            absl::StrCat("SELECT ", kColumns, " FROM migrations m WHERE m.id = $1::uuid"), id);
        if (r.empty()) {
          return absl::NotFoundError(absl::StrCat("migration ", id, " not found"));
        }
        return FromRow(r[0]);
      });
}

absl::StatusOr<std::optional<MigrationRecord>> MigrationRepository::FindByRequestId(
    const std::string& request_id) {
  return pool_->Run("finding a migration by request id",
                    [&](pqxx::connection& conn) -> absl::StatusOr<std::optional<MigrationRecord>> {
                      pqxx::read_transaction txn(conn);
                      return ByRequestId(txn, request_id);
                    });
}

absl::StatusOr<std::vector<MigrationRecord>> MigrationRepository::List(
    const MigrationFilter& filter) {
  if (!filter.resource_id.empty() && !LooksLikeUuid(filter.resource_id)) {
    return std::vector<MigrationRecord>{};
  }
  if (!filter.after.empty() && !LooksLikeUuid(filter.after)) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token \"", filter.after, "\" is not one this server returned"));
  }
  std::optional<std::string> created_after;
  if (filter.created_after.has_value()) created_after = ToSqlTime(*filter.created_after);
  return pool_->Run(
      "listing migrations",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<MigrationRecord>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            absl::StrCat(
                "SELECT ", kColumns,
                " FROM migrations m WHERE ($1::uuid IS NULL OR m.resource_id = $1::uuid) AND "
                "($2::text IS NULL OR m.state = $2) AND ($3::timestamptz IS NULL OR "
                "m.created_at > $3::timestamptz) AND ($4::uuid IS NULL OR (m.created_at, m.id) > "
                "(SELECT created_at, id FROM migrations WHERE id = $4::uuid)) ORDER BY "
                "m.created_at, m.id LIMIT $5"),
            NonEmpty(filter.resource_id), NonEmpty(filter.state), created_after,
            NonEmpty(filter.after), filter.page_size);
        std::vector<MigrationRecord> out;
        for (const auto& r : rows) out.push_back(FromRow(r));
        return out;
      });
}

absl::StatusOr<std::map<std::string, std::vector<MigrationRecord>>>
MigrationRepository::OfResources(const std::vector<std::string>& resource_ids,
                                 absl::Time created_after) {
  const std::optional<std::string> ids = UuidArray(resource_ids);
  std::map<std::string, std::vector<MigrationRecord>> out;
  if (!ids.has_value()) return out;
  return pool_->Run(
      "listing migrations of resources",
      [&](pqxx::connection& conn)
          -> absl::StatusOr<std::map<std::string, std::vector<MigrationRecord>>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            absl::StrCat("SELECT ", kColumns,
                         " FROM migrations m WHERE m.resource_id = ANY($1::uuid[]) AND "
                         "m.created_at > $2::timestamptz ORDER BY m.created_at, m.id"),
            *ids, ToSqlTime(created_after));
        for (const auto& r : rows) {
          MigrationRecord m = FromRow(r);
          out[m.resource_id].push_back(std::move(m));
        }
        return out;
      });
}

absl::StatusOr<std::vector<MigrationEventRecord>> MigrationRepository::Events(
    const std::string& id) {
  if (!LooksLikeUuid(id)) return std::vector<MigrationEventRecord>{};
  return pool_->Run(
      "reading migration events",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<MigrationEventRecord>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            "SELECT id, " SP_SQL_UTC("at") ", COALESCE(from_state, ''), to_state, detail::text, "
            "driver FROM migration_events WHERE migration_id = $1::uuid ORDER BY id",
            id);
        std::vector<MigrationEventRecord> out;
        for (const auto& r : rows) {
          out.push_back({r[0].as<int64_t>(), FromSqlTime(r[1].as<std::string>()),
                         r[2].as<std::string>(), r[3].as<std::string>(), r[4].as<std::string>(),
                         r[5].as<std::string>()});
        }
        return out;
      });
}

absl::Status MigrationRepository::Transition(const std::string& id, MigrationState from_state,
                                             MigrationState to_state, const MigrationChange& change,
                                             absl::Time now, const std::string& owner) {
  const std::string from = StateName(from_state);
  const std::string to = StateName(to_state);
  // Staying in an unfinished state records an event (a step's decision); any other move must be
  // one of the state machine's.
  const bool stays = from_state == to_state && !IsFinal(from_state);
  if (!stays && !CanTransition(from_state, to_state)) {
    return absl::FailedPreconditionError(absl::StrCat("migration ", id, ": ", from, " -> ", to,
                                                      " is not a move of the state machine"));
  }
  if (!LooksLikeUuid(id)) return absl::NotFoundError(absl::StrCat("migration ", id, " not found"));
  return pool_->Run("moving a migration", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    const std::string at = ToSqlTime(now);
    std::optional<std::string> target;
    if (change.target_instance_id.has_value()) target = NonEmpty(*change.target_instance_id);
    const pqxx::result moved = txn.exec_params(
        "UPDATE migrations SET state = $3, updated_at = $4::timestamptz, state_entered_at = "
        "CASE WHEN $2 = $3 THEN state_entered_at ELSE $4::timestamptz END, target_instance_id = "
        "COALESCE($5::uuid, target_instance_id), error = CASE WHEN $6::boolean THEN $7 ELSE "
        "error END WHERE id = $1::uuid AND state = $2 AND ($8 = '' OR (lease_owner = $8 AND "
        "lease_expires_at >= now())) RETURNING id",
        id, from, to, at, target, change.error.has_value(), change.error.value_or(""), owner);
    if (moved.empty()) {
      const pqxx::result now_in = txn.exec_params(
          "SELECT state, COALESCE(lease_owner, '') FROM migrations WHERE id = $1::uuid", id);
      if (now_in.empty()) return absl::NotFoundError(absl::StrCat("migration ", id, " not found"));
      return absl::AbortedError(
          absl::StrCat("migration ", id, " is in ", now_in[0][0].as<std::string>(), " (leased by '",
                       now_in[0][1].as<std::string>(), "'), not in ", from,
                       owner.empty() ? "" : " under ", owner, ": another driver moved it"));
    }
    txn.exec_params(
        "INSERT INTO migration_events (migration_id, at, from_state, to_state, detail, driver) "
        "VALUES ($1::uuid, $2::timestamptz, $3, $4, $5::jsonb, $6)",
        id, at, from, to, change.detail_json.empty() ? "{}" : change.detail_json, owner);
    if (change.progress.has_value()) WriteProgress(txn, id, *change.progress);
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<bool> MigrationRepository::StartWithinLimits(
    const std::string& id, int max_active, int max_per_location, const MigrationProgress& progress,
    const std::string& detail_json, absl::Time now, const std::string& owner) {
  if (!LooksLikeUuid(id)) return absl::NotFoundError(absl::StrCat("migration ", id, " not found"));
  return pool_->Run("starting a migration", [&](pqxx::connection& conn) -> absl::StatusOr<bool> {
    pqxx::work txn(conn);
    // Every start counts and moves under this lock (released at commit).
    txn.exec("SELECT pg_advisory_xact_lock(hashtext('shadowplane.migration_slots'))");
    const pqxx::result m = txn.exec_params(
        "SELECT target_location, kind, urgent FROM migrations WHERE id = $1::uuid AND state = "
        "'PLANNED' "
        "AND ($2 = '' OR (lease_owner = $2 AND lease_expires_at >= now())) FOR UPDATE",
        id, owner);
    if (m.empty()) {
      return absl::AbortedError(
          absl::StrCat("migration ", id, " is no longer PLANNED under ", owner));
    }
    // Emergencies and urgent fallbacks run against a deadline: no queue for them.
    if (m[0][1].as<std::string>() != "emergency" && !m[0][2].as<bool>()) {
      const pqxx::result counts = txn.exec_params(
          absl::StrCat("SELECT count(*), count(*) FILTER (WHERE m.target_location = $1) FROM "
                       "migrations m WHERE ",
                       kWorking),
          m[0][0].as<std::string>());
      if (counts[0][0].as<int64_t>() >= max_active ||
          counts[0][1].as<int64_t>() >= max_per_location) {
        return false;
      }
    }
    const std::string at = ToSqlTime(now);
    txn.exec_params(
        "UPDATE migrations SET state = 'PREPARING_TARGET', updated_at = $2::timestamptz, "
        "state_entered_at = $2::timestamptz WHERE id = $1::uuid",
        id, at);
    txn.exec_params(
        "INSERT INTO migration_events (migration_id, at, from_state, to_state, detail, driver) "
        "VALUES ($1::uuid, $2::timestamptz, 'PLANNED', 'PREPARING_TARGET', $3::jsonb, $4)",
        id, at, detail_json.empty() ? "{}" : detail_json, owner);
    WriteProgress(txn, id, progress);
    txn.commit();
    return true;
  });
}

absl::Status MigrationRepository::SaveProgress(const std::string& id, MigrationState in_state,
                                               const MigrationProgress& progress, absl::Time now,
                                               const std::string& owner) {
  if (!LooksLikeUuid(id)) return absl::NotFoundError(absl::StrCat("migration ", id, " not found"));
  const std::string state = StateName(in_state);
  return pool_->Run("saving a migration's progress", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    const pqxx::result held = txn.exec_params(
        "UPDATE migrations SET updated_at = $3::timestamptz WHERE id = $1::uuid AND state = $2 AND "
        "($4 = '' OR (lease_owner = $4 AND lease_expires_at >= now())) RETURNING id",
        id, state, ToSqlTime(now), owner);
    if (held.empty()) {
      return absl::AbortedError(absl::StrCat("migration ", id, " is no longer in ", state,
                                             owner.empty() ? "" : " under ", owner));
    }
    WriteProgress(txn, id, progress);
    txn.commit();
    return absl::OkStatus();
  });
}

absl::Status MigrationRepository::RequestCancel(const std::string& id) {
  if (!LooksLikeUuid(id)) return absl::NotFoundError(absl::StrCat("migration ", id, " not found"));
  return pool_->Run("cancelling a migration", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    const pqxx::result r = txn.exec_params(
        "UPDATE migrations SET cancel_requested = true WHERE id = $1::uuid RETURNING id", id);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("migration ", id, " not found"));
    txn.commit();
    return absl::OkStatus();
  });
}

absl::Status MigrationRepository::RecordRound(const std::string& id,
                                              const MigrationRoundRecord& round) {
  return pool_->Run("recording a migration round", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    txn.exec_params(
        "INSERT INTO migration_rounds (migration_id, round, kind, at, files_transferred, "
        "bytes_literal, bytes_wire, dirty_files, dirty_bytes, duration_seconds) VALUES ($1::uuid, "
        "$2, $3, $4::timestamptz, $5, $6, $7, $8, $9, $10) ON CONFLICT (migration_id, round) DO "
        "UPDATE SET kind = EXCLUDED.kind, at = EXCLUDED.at, files_transferred = "
        "EXCLUDED.files_transferred, bytes_literal = EXCLUDED.bytes_literal, bytes_wire = "
        "EXCLUDED.bytes_wire, dirty_files = EXCLUDED.dirty_files, dirty_bytes = "
        "EXCLUDED.dirty_bytes, duration_seconds = EXCLUDED.duration_seconds",
        id, round.round, round.kind, ToSqlTime(round.at), round.files_transferred,
        round.bytes_literal, round.bytes_wire, round.dirty_files, round.dirty_bytes,
        round.duration_seconds);
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<MigrationRoundRecord>> MigrationRepository::Rounds(
    const std::string& id) {
  if (!LooksLikeUuid(id)) return std::vector<MigrationRoundRecord>{};
  return pool_->Run(
      "reading migration rounds",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<MigrationRoundRecord>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            "SELECT round, kind, " SP_SQL_UTC("at") ", files_transferred, bytes_literal, bytes_wire, "
            "dirty_files, dirty_bytes, duration_seconds FROM migration_rounds WHERE migration_id "
            "= $1::uuid ORDER BY round",
            id);
        std::vector<MigrationRoundRecord> out;
        for (const auto& r : rows) {
          MigrationRoundRecord round;
          round.round = r[0].as<int>();
          round.kind = r[1].as<std::string>();
          round.at = FromSqlTime(r[2].as<std::string>());
          round.files_transferred = r[3].as<int64_t>();
          round.bytes_literal = r[4].as<int64_t>();
          round.bytes_wire = r[5].as<int64_t>();
          round.dirty_files = r[6].as<int64_t>();
          round.dirty_bytes = r[7].as<int64_t>();
          round.duration_seconds = r[8].as<double>();
          out.push_back(round);
        }
        return out;
      });
}

absl::Status MigrationRepository::RecordPredicted(
    const std::string& id, const std::vector<MigrationObservationRecord>& rows) {
  return pool_->Run(
      "recording a migration's forecast", [&](pqxx::connection& conn) -> absl::Status {
        pqxx::work txn(conn);
        for (const MigrationObservationRecord& o : rows) {
          txn.exec_params(
              "INSERT INTO migration_observations (migration_id, origin_region, hour, "
              "predicted_requests) VALUES ($1::uuid, $2, $3::timestamptz, $4) ON CONFLICT "
              "(migration_id, origin_region, hour) DO NOTHING",
              id, o.origin_region, ToSqlTime(o.hour), o.predicted_requests.value_or(0));
        }
        txn.commit();
        return absl::OkStatus();
      });
}

absl::Status MigrationRepository::RecordRealized(
    const std::string& id, const std::vector<MigrationObservationRecord>& rows) {
  return pool_->Run("recording a migration's demand", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    for (const MigrationObservationRecord& o : rows) {
      txn.exec_params(
          "INSERT INTO migration_observations (migration_id, origin_region, hour, "
          "realized_requests) VALUES ($1::uuid, $2, $3::timestamptz, $4) ON CONFLICT "
          "(migration_id, origin_region, hour) DO UPDATE SET realized_requests = "
          "EXCLUDED.realized_requests",
          id, o.origin_region, ToSqlTime(o.hour), o.realized_requests.value_or(0));
    }
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<MigrationObservationRecord>> MigrationRepository::Observations(
    const std::string& id) {
  if (!LooksLikeUuid(id)) return std::vector<MigrationObservationRecord>{};
  return pool_->Run(
      "reading a migration's observation",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<MigrationObservationRecord>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            "SELECT origin_region, " SP_SQL_UTC("hour") ", predicted_requests, realized_requests "
            "FROM migration_observations WHERE migration_id = $1::uuid ORDER BY origin_region, "
            "hour",
            id);
        std::vector<MigrationObservationRecord> out;
        for (const auto& r : rows) {
          out.push_back({r[0].as<std::string>(), FromSqlTime(r[1].as<std::string>()),
                         Opt<double>(r[2]), Opt<double>(r[3])});
        }
        return out;
      });
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> MigrationRepository::CountByState() {
  return pool_->Run(
      "counting migrations",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows =
            txn.exec("SELECT state, count(*) FROM migrations GROUP BY state ORDER BY state");
        std::vector<std::pair<std::string, int64_t>> out;
        for (const auto& r : rows) out.emplace_back(r[0].as<std::string>(), r[1].as<int64_t>());
        return out;
      });
}

absl::StatusOr<std::vector<MigrationRecord>> MigrationRepository::Claim(const std::string& owner,
                                                                        absl::Duration ttl,
                                                                        int limit) {
  return pool_->Run(
      "claiming migrations",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<MigrationRecord>> {
        pqxx::work txn(conn);
        const pqxx::result rows = txn.exec_params(
            absl::StrCat("WITH c AS (SELECT m.id FROM migrations m WHERE ", kUnfinished,
                         " AND (m.lease_owner IS NULL OR m.lease_owner = $1 OR "
                         "m.lease_expires_at < now()) ORDER BY m.created_at, m.id LIMIT $3 FOR "
                         "UPDATE SKIP LOCKED), u AS (UPDATE migrations SET lease_owner = $1, "
                         "lease_expires_at = now() + make_interval(secs => $2) FROM c WHERE "
                         "migrations.id = c.id RETURNING migrations.*) SELECT ",
                         kColumns, " FROM u m ORDER BY m.created_at, m.id"),
            owner, Seconds(ttl), limit);
        txn.commit();
        std::vector<MigrationRecord> out;
        for (const auto& r : rows) out.push_back(FromRow(r));
        return out;
      });
}

absl::Status MigrationRepository::Release(const std::string& id, const std::string& owner) {
  return pool_->Run("giving up a migration lease", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    txn.exec_params(
        "UPDATE migrations SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1::uuid "
        "AND lease_owner = $2",
        id, owner);
    txn.commit();
    return absl::OkStatus();
  });
}

#undef SP_UTC

}  // namespace shadowplane::store
