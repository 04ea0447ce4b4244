#include "store/decision_repository.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "store/sql_array.h"
#include "store/sql_time.h"
#include "store/uuid.h"

namespace shadowplane::store {

namespace {

constexpr char kColumns[] =
    "id::text, resource_id::text, reservation_id::text, " SP_SQL_UTC(
        "decided_at") ", outcome, blocking_gate, from_location, to_location, confidence, "
                      "expected_saving, mode, threshold, horizon_seconds, reason, explanation, " SP_SQL_UTC(
                          "reservation_updated_at") ", COALESCE((SELECT m.id::text FROM migrations m WHERE m.decision_id = d.id ORDER BY m.created_at LIMIT 1), ''), " SP_SQL_UTC("confirmed_at") ", to_capacity_type, " SP_SQL_UTC("start_at") ", " SP_SQL_UTC("cutover_at") ", " SP_SQL_UTC("ended_at") ", end_note";

DecisionRecord FromRow(const pqxx::row& r) {
  DecisionRecord d;
  d.id = r[0].as<std::string>();
  d.resource_id = r[1].as<std::string>();
  d.reservation_id = r[2].as<std::string>();
  d.decided_at = FromSqlTime(r[3].as<std::string>());
  d.outcome = r[4].as<std::string>();
  d.blocking_gate = r[5].as<std::string>();
  d.from_location = r[6].as<std::string>();
  d.to_location = r[7].as<std::string>();
  d.confidence = r[8].as<double>();
  d.expected_saving = r[9].as<double>();
  d.mode = r[10].as<std::string>();
  d.threshold = r[11].as<double>();
  d.horizon = absl::Seconds(r[12].as<int64_t>());
  d.reason = r[13].as<std::string>();
  d.explanation_json = r[14].as<std::string>();
  d.reservation_updated_at = FromSqlTime(r[15].as<std::string>());
  d.migration_id = r[16].as<std::string>();
  d.confirmed_at = FromSqlTime(r[17].as<std::string>());
  d.to_capacity_type = r[18].as<std::string>();
  auto time_at = [&r](int i) -> std::optional<absl::Time> {
    if (r[i].is_null()) return std::nullopt;
    return FromSqlTime(r[i].as<std::string>());
  };
  d.start_at = time_at(19);
  d.cutover_at = time_at(20);
  d.ended_at = time_at(21);
  d.end_note = r[22].as<std::string>();
  return d;
}

ControlRecord ControlFromRow(const pqxx::row& r) {
  ControlRecord c;
  c.id = r[0].as<int64_t>();
  c.at = FromSqlTime(r[1].as<std::string>());
  c.action = r[2].as<std::string>();
  c.actor = r[3].as<std::string>();
  c.reason = r[4].as<std::string>();
  return c;
}

std::optional<std::string> OptionalTime(const std::optional<absl::Time>& t) {
  if (!t.has_value()) return std::nullopt;
  return ToSqlTime(*t);
}

constexpr char kControlColumns[] = "id, " SP_SQL_UTC("at") ", action, actor, reason";

}  // namespace

absl::StatusOr<std::string> DecisionRepository::Insert(const DecisionRecord& d) {
  if (!LooksLikeUuid(d.resource_id) || !LooksLikeUuid(d.reservation_id)) {
    return absl::InvalidArgumentError("a decision needs the resource's and reservation's ids");
  }
  return pool_->Run(
      "recording a planner decision", [&](pqxx::connection& conn) -> absl::StatusOr<std::string> {
        pqxx::work txn(conn);
        const std::string id =
            txn.exec_params1(
                   "INSERT INTO planner_decisions (resource_id, reservation_id, decided_at, "
                   "outcome, blocking_gate, from_location, to_location, confidence, "
                   "expected_saving, mode, threshold, horizon_seconds, reason, explanation, "
                   "reservation_updated_at, confirmed_at, to_capacity_type, start_at, cutover_at) "
                   "VALUES ($1::uuid, $2::uuid, $3::timestamptz, $4, $5, $6, $7, $8, $9, $10, "
                   "$11, $12, $13, $14, $15::timestamptz, $3::timestamptz, $16, "
                   "$17::timestamptz, $18::timestamptz) RETURNING id::text",
                   d.resource_id, d.reservation_id, ToSqlTime(d.decided_at), d.outcome,
                   d.blocking_gate, d.from_location, d.to_location, d.confidence, d.expected_saving,
                   d.mode, d.threshold, absl::ToInt64Seconds(d.horizon), d.reason,
                   d.explanation_json, ToSqlTime(d.reservation_updated_at), d.to_capacity_type,
                   OptionalTime(d.start_at), OptionalTime(d.cutover_at))[0]
                .as<std::string>();
        txn.commit();
        return id;
      });
}

absl::Status DecisionRepository::InsertBatch(const std::vector<DecisionRecord>& batch) {
  if (batch.empty()) return absl::OkStatus();
  SqlArray resource, reservation, decided, outcome, gate, from, to, confidence, saving, mode,
      threshold, horizon, reason, explanation, updated, to_type, start_at, cutover_at;
  for (const DecisionRecord& d : batch) {
    if (!LooksLikeUuid(d.resource_id) || !LooksLikeUuid(d.reservation_id)) {
      return absl::InvalidArgumentError("a decision needs the resource's and reservation's ids");
    }
    resource.AddText(d.resource_id);
    reservation.AddText(d.reservation_id);
    decided.AddTime(d.decided_at);
    outcome.AddText(d.outcome);
    gate.AddText(d.blocking_gate);
    from.AddText(d.from_location);
    to.AddText(d.to_location);
    confidence.AddDouble(d.confidence);
    saving.AddDouble(d.expected_saving);
    mode.AddText(d.mode);
    threshold.AddDouble(d.threshold);
    horizon.AddInt(absl::ToInt64Seconds(d.horizon));
    reason.AddText(d.reason);
    explanation.AddText(d.explanation_json);
    updated.AddTime(d.reservation_updated_at);
    to_type.AddText(d.to_capacity_type);
    d.start_at.has_value() ? start_at.AddTime(*d.start_at) : start_at.AddNull();
    d.cutover_at.has_value() ? cutover_at.AddTime(*d.cutover_at) : cutover_at.AddNull();
  }
  return pool_->Run("recording planner decisions", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    txn.exec_params(
        "INSERT INTO planner_decisions (resource_id, reservation_id, decided_at, outcome, "
        "blocking_gate, from_location, to_location, confidence, expected_saving, mode, threshold, "
        "horizon_seconds, reason, explanation, reservation_updated_at, confirmed_at, "
        "to_capacity_type, start_at, cutover_at) SELECT r, v, t, o, g, f, l, c, s, m, h, z, e, x, "
        "u, t, k, sa, ca FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], "
        "$5::text[], $6::text[], $7::text[], $8::double precision[], $9::double precision[], "
        "$10::text[], $11::double precision[], $12::bigint[], $13::text[], $14::text[], "
        "$15::timestamptz[], $16::text[], $17::timestamptz[], $18::timestamptz[]) AS a(r, v, t, "
        "o, g, f, l, c, s, m, h, z, e, x, u, k, sa, ca)",
        resource.Take(), reservation.Take(), decided.Take(), outcome.Take(), gate.Take(),
        from.Take(), to.Take(), confidence.Take(), saving.Take(), mode.Take(), threshold.Take(),
        horizon.Take(), reason.Take(), explanation.Take(), updated.Take(), to_type.Take(),
        start_at.Take(), cutover_at.Take());
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<DecisionRecord> DecisionRepository::Get(const std::string& id) {
  if (!LooksLikeUuid(id)) return absl::NotFoundError(absl::StrCat("decision ", id, " not found"));
  return pool_->Run(
      "reading a planner decision", [&](pqxx::connection& conn) -> absl::StatusOr<DecisionRecord> {
        pqxx::read_transaction txn(conn);
        const pqxx::result r = txn.exec_params(
            absl::StrCat("SELECT ", kColumns, " FROM planner_decisions d WHERE id = $1::uuid"), id);
        if (r.empty()) return absl::NotFoundError(absl::StrCat("decision ", id, " not found"));
        return FromRow(r[0]);
      });
}

absl::StatusOr<std::vector<DecisionRecord>> DecisionRepository::List(const DecisionFilter& f) {
  if (!f.resource_id.empty() && !LooksLikeUuid(f.resource_id)) {
    return std::vector<DecisionRecord>{};
  }
  if (!f.before_id.empty() && !LooksLikeUuid(f.before_id)) {
    return absl::InvalidArgumentError("before_id is not a decision id");
  }
  std::optional<std::string> from, to, before_time, resource, outcome, before_id;
  if (f.from) from = ToSqlTime(*f.from);
  if (f.to) to = ToSqlTime(*f.to);
  if (f.before_time) before_time = ToSqlTime(*f.before_time);
  if (!f.resource_id.empty()) resource = f.resource_id;
  if (!f.outcome.empty()) outcome = f.outcome;
  if (!f.before_id.empty()) before_id = f.before_id;
  return pool_->Run(
      "listing planner decisions",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<DecisionRecord>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            absl::StrCat(
                "SELECT ", kColumns,
                " FROM planner_decisions d WHERE ($1::uuid IS NULL OR resource_id = $1::uuid) "
                "AND ($2::text IS NULL OR outcome = $2) AND ($3::timestamptz IS NULL OR "
                "decided_at >= $3::timestamptz) AND ($4::timestamptz IS NULL OR decided_at < "
                "$4::timestamptz) AND ($5::timestamptz IS NULL OR (decided_at, id) < "
                "($5::timestamptz, COALESCE($6::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))) "
                "ORDER BY decided_at DESC, id DESC LIMIT $7"),
            resource, outcome, from, to, before_time, before_id, f.page_size);
        std::vector<DecisionRecord> out;
        out.reserve(rows.size());
        for (const auto& row : rows) out.push_back(FromRow(row));
        return out;
      });
}

absl::StatusOr<std::map<std::string, LastDecision>> DecisionRepository::LatestSince(
    absl::Time since) {
  return pool_->Run(
      "reading the latest planner decisions",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::map<std::string, LastDecision>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            "SELECT DISTINCT ON (resource_id) resource_id::text, outcome, to_location, "
            "blocking_gate, " SP_SQL_UTC("decided_at") ", id::text FROM planner_decisions WHERE "
            "decided_at >= $1::timestamptz ORDER BY resource_id, decided_at DESC, id DESC",
            ToSqlTime(since));
        std::map<std::string, LastDecision> out;
        for (const auto& row : rows) {
          LastDecision& d = out[row[0].as<std::string>()];
          d.outcome = row[1].as<std::string>();
          d.to_location = row[2].as<std::string>();
          d.blocking_gate = row[3].as<std::string>();
          d.decided_at = FromSqlTime(row[4].as<std::string>());
          d.id = row[5].as<std::string>();
        }
        return out;
      });
}

absl::Status DecisionRepository::Confirm(const std::vector<std::string>& ids, absl::Time at) {
  if (ids.empty()) return absl::OkStatus();
  SqlArray array;
  for (const std::string& id : ids) {
    if (!LooksLikeUuid(id)) return absl::InvalidArgumentError("confirming needs decision ids");
    array.AddText(id);
  }
  const std::string literal = array.Take();
  return pool_->Run("confirming planner decisions", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    txn.exec_params(
        "UPDATE planner_decisions SET confirmed_at = $2::timestamptz WHERE id = ANY($1::uuid[])",
        literal, ToSqlTime(at));
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> DecisionRepository::PruneBefore(absl::Time before) {
  return pool_->Run(
      "pruning planner decisions", [&](pqxx::connection& conn) -> absl::StatusOr<int64_t> {
        pqxx::work txn(conn);
        const pqxx::result r = txn.exec_params(
            "DELETE FROM planner_decisions WHERE decided_at < $1::timestamptz", ToSqlTime(before));
        txn.commit();
        return static_cast<int64_t>(r.affected_rows());
      });
}

absl::StatusOr<int> DecisionRepository::PlannedMovesSince(absl::Time since) {
  return pool_->Run("counting planned moves", [&](pqxx::connection& conn) -> absl::StatusOr<int> {
    pqxx::read_transaction txn(conn);
    return txn
        .exec_params1(
            "SELECT count(*) FROM migrations WHERE (decision_id IS NOT NULL OR urgent OR "
            "request_id LIKE 'drain-%') AND created_at >= $1::timestamptz",
            ToSqlTime(since))[0]
        .as<int>();
  });
}

absl::StatusOr<std::vector<DecisionRepository::Judged>> DecisionRepository::JudgedMoves(
    absl::Time since) {
  return pool_->Run(
      "reading judged moves", [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<Judged>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            "SELECT COALESCE(predicted_confidence, 0), COALESCE(predicted_saving, "
            "0), COALESCE(realized_saving, 0), paid_off FROM migrations WHERE "
            "decision_id IS NOT NULL AND paid_off IS NOT NULL AND created_at >= "
            "$1::timestamptz",
            ToSqlTime(since));
        std::vector<Judged> out;
        for (const auto& row : rows) {
          out.push_back(
              {row[0].as<double>(), row[1].as<double>(), row[2].as<double>(), row[3].as<bool>()});
        }
        return out;
      });
}

absl::StatusOr<ControlRecord> DecisionRepository::RecordControl(const ControlRecord& c) {
  return pool_->Run(
      "recording a planner control", [&](pqxx::connection& conn) -> absl::StatusOr<ControlRecord> {
        pqxx::work txn(conn);
        const pqxx::row r = txn.exec_params1(
            absl::StrCat("INSERT INTO planner_controls (at, action, actor, reason) VALUES "
                         "($1::timestamptz, $2, $3, $4) RETURNING ",
                         kControlColumns),
            ToSqlTime(c.at), c.action, c.actor, c.reason);
        txn.commit();
        return ControlFromRow(r);
      });
}

absl::StatusOr<std::optional<ControlRecord>> DecisionRepository::LatestControl() {
  absl::StatusOr<std::vector<ControlRecord>> last = Controls(1);
  if (!last.ok()) return last.status();
  if (last->empty()) return std::optional<ControlRecord>();
  return std::optional<ControlRecord>(last->front());
}

absl::StatusOr<std::vector<ControlRecord>> DecisionRepository::Controls(int limit) {
  return pool_->Run("reading planner controls",
                    [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<ControlRecord>> {
                      pqxx::read_transaction txn(conn);
                      const pqxx::result rows = txn.exec_params(
                          absl::StrCat("SELECT ", kControlColumns,
                                       " FROM planner_controls ORDER BY id DESC LIMIT $1"),
                          limit);
                      std::vector<ControlRecord> out;
                      for (const auto& row : rows) out.push_back(ControlFromRow(row));
                      return out;
                    });
}

absl::StatusOr<std::map<std::string, LastDecision>> DecisionRepository::OpenScheduled() {
  return pool_->Run(
      "reading scheduled decisions",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::map<std::string, LastDecision>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec(
            "SELECT DISTINCT ON (resource_id) resource_id::text, id::text, outcome, to_location, "
            "blocking_gate, " SP_SQL_UTC("decided_at") " FROM planner_decisions WHERE outcome = "
            "'scheduled' AND ended_at IS NULL ORDER BY resource_id, decided_at DESC");
        std::map<std::string, LastDecision> out;
        for (const auto& r : rows) {
          LastDecision d;
          d.id = r[1].as<std::string>();
          d.outcome = r[2].as<std::string>();
          d.to_location = r[3].as<std::string>();
          d.blocking_gate = r[4].as<std::string>();
          d.decided_at = FromSqlTime(r[5].as<std::string>());
          out[r[0].as<std::string>()] = d;
        }
        return out;
      });
}

absl::StatusOr<int64_t> DecisionRepository::EndScheduled(const std::string& resource_id,
                                                         const std::string& note, absl::Time at,
                                                         const std::string& except_id) {
  if (!LooksLikeUuid(resource_id)) return int64_t{0};
  return pool_->Run("ending scheduled decisions",
                    [&](pqxx::connection& conn) -> absl::StatusOr<int64_t> {
                      pqxx::work txn(conn);
                      const pqxx::result r = txn.exec_params(
                          "UPDATE planner_decisions SET ended_at = $2::timestamptz, end_note = $3 "
                          "WHERE resource_id = $1::uuid AND outcome = 'scheduled' AND ended_at IS "
                          "NULL AND id::text <> $4",
                          resource_id, ToSqlTime(at), note, except_id);
                      txn.commit();
                      return static_cast<int64_t>(r.affected_rows());
                    });
}

absl::StatusOr<std::vector<EndedSchedule>> DecisionRepository::CancelStaleScheduled(absl::Time at) {
  return pool_->Run(
      "cancelling stale scheduled decisions",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<EndedSchedule>> {
        pqxx::work txn(conn);
        // The primary is the reservation's instance with role 'primary' (none: released).
        const pqxx::result r = txn.exec_params(
            "WITH stale AS (SELECT d.id, CASE WHEN rv.state <> 'active' THEN "
            "'cancelled: the reservation is ' || rv.state ELSE 'cancelled: the primary moved to ' "
            "|| COALESCE(p.location, 'nowhere') || ' by other means' END AS note FROM "
            "planner_decisions d JOIN reservations rv ON rv.id = d.reservation_id LEFT JOIN "
            "instances p ON p.resource_id = d.resource_id AND p.role = 'primary' AND p.state NOT "
            "IN "
            "('stopped', 'failed') WHERE d.outcome = 'scheduled' AND d.ended_at IS NULL AND "
            "(rv.state <> 'active' OR p.location IS DISTINCT FROM d.from_location)) "
            "UPDATE planner_decisions d SET ended_at = $1::timestamptz, end_note = stale.note "
            "FROM stale WHERE d.id = stale.id RETURNING d.id::text, d.resource_id::text, "
            "d.end_note",
            ToSqlTime(at));
        txn.commit();
        std::vector<EndedSchedule> out;
        for (const auto& row : r) {
          out.push_back(
              {row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()});
        }
        return out;
      });
}

}  // namespace shadowplane::store
