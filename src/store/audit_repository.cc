#include "store/audit_repository.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "store/sql_array.h"
#include "store/sql_time.h"

namespace shadowplane::store {
namespace {

// NUL cannot be stored in PostgreSQL text (and libpq would cut the parameter there).
std::string Storable(const std::string& s) {
  if (s.find('\0') == std::string::npos) return s;
  std::string out;
  for (char c : s) {
    if (c == '\0') {
      out.append("\xEF\xBF\xBD");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// A JSON string of `s` (valid UTF-8 from protobuf): quotes, backslashes and control characters
// escaped; NUL, which jsonb refuses, as U+FFFD.
void AppendJsonString(const std::string& s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c == 0) {
      out->append("\\ufffd");
    } else if (c < 0x20) {
      absl::StrAppendFormat(out, "\\u%04x", c);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

std::string JsonObject(const std::map<std::string, std::string>& m) {
  std::string out = "{";
  for (const auto& [k, v] : m) {
    if (out.size() > 1) out.push_back(',');
    AppendJsonString(k, &out);
    out.push_back(':');
    AppendJsonString(v, &out);
  }
  out.push_back('}');
  return out;
}

}  // namespace

absl::Status AuditRepository::Append(const std::vector<AuditRecord>& records) {
  if (records.empty()) return absl::OkStatus();
  SqlArray at, caller, role, method, targets, request_id, code, message;
  SqlArray done_id, done_code, done_message;
  for (const AuditRecord& r : records) {
    if (r.id > 0) {
      done_id.AddInt(r.id);
      done_code.AddText(r.code);
      done_message.AddText(Storable(r.message));
      continue;
    }
    at.AddTime(r.at);
    caller.AddText(Storable(r.caller));
    role.AddText(Storable(r.role));
    method.AddText(Storable(r.method));
    targets.AddText(JsonObject(r.targets));
    request_id.AddText(Storable(r.request_id));
    code.AddText(r.code);
    message.AddText(Storable(r.message));
  }
  return pool_->Run("writing the audit trail", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    txn.exec_params(
        "INSERT INTO audit_log (at, caller, role, method, targets, request_id, code, message) "
        "SELECT a, c, r, m, t::jsonb, q, s, x FROM unnest($1::timestamptz[], $2::text[], "
        "$3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) "
        "AS u(a, c, r, m, t, q, s, x)",
        at.Take(), caller.Take(), role.Take(), method.Take(), targets.Take(), request_id.Take(),
        code.Take(), message.Take());
    txn.exec_params(
        "UPDATE audit_log l SET code = u.s, message = u.x FROM unnest($1::bigint[], $2::text[], "
        "$3::text[]) AS u(i, s, x) WHERE l.id = u.i",
        done_id.Take(), done_code.Take(), done_message.Take());
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> AuditRepository::Begin(const AuditRecord& r) {
  return pool_->Run(
      "writing the audit trail", [&](pqxx::connection& conn) -> absl::StatusOr<int64_t> {
        pqxx::work txn(conn);
        const int64_t id =
            txn.exec_params1(
                   "INSERT INTO audit_log (at, caller, role, method, targets, request_id, code, "
                   "message) VALUES ($1::timestamptz, $2, $3, $4, $5::jsonb, $6, $7, $8) RETURNING "
                   "id",
                   ToSqlTime(r.at), Storable(r.caller), Storable(r.role), Storable(r.method),
                   JsonObject(r.targets), Storable(r.request_id), r.code, Storable(r.message))[0]
                .as<int64_t>();
        txn.commit();
        return id;
      });
}

absl::StatusOr<std::vector<AuditRecord>> AuditRepository::List(const AuditFilter& f) {
  return pool_->Run("reading the audit trail",
                    [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<AuditRecord>> {
                      pqxx::work txn(conn);
                      const pqxx::result rows = txn.exec_params(
            "WITH page AS (SELECT id, at, caller, role, method, targets, request_id, code, "
            "message FROM audit_log WHERE ($1 = '' OR caller = $1) AND ($2 = '' OR method = $2 "
            "OR right(method, length($2) + 1) = '/' || $2) AND ($3 = '' OR code = $3) AND ($4::timestamptz IS NULL "
            "OR at >= $4::timestamptz) AND ($5::timestamptz IS NULL OR at < $5::timestamptz) "
            "AND ($6::bigint IS NULL OR id < $6::bigint) ORDER BY id DESC LIMIT $7) "
            "SELECT p.id, " SP_SQL_UTC("p.at") ", p.caller, p.role, p.method, p.request_id, "
            "p.code, p.message, t.key, t.value FROM page p LEFT JOIN LATERAL "
            "jsonb_each_text(p.targets) t ON true ORDER BY p.id DESC, t.key",
            f.caller, f.method, f.code,
            f.from.has_value() ? std::optional<std::string>(ToSqlTime(*f.from)) : std::nullopt,
            f.to.has_value() ? std::optional<std::string>(ToSqlTime(*f.to)) : std::nullopt,
            f.before_id, f.limit);
                      std::vector<AuditRecord> out;
                      for (const pqxx::row& row : rows) {
                        const int64_t id = row[0].as<int64_t>();
                        if (out.empty() || out.back().id != id) {
                          AuditRecord r;
                          r.id = id;
                          r.at = FromSqlTime(row[1].as<std::string>());
                          r.caller = row[2].as<std::string>();
                          r.role = row[3].as<std::string>();
                          r.method = row[4].as<std::string>();
                          r.request_id = row[5].as<std::string>();
                          r.code = row[6].as<std::string>();
                          r.message = row[7].as<std::string>();
                          out.push_back(std::move(r));
                        }
                        if (!row[8].is_null())
                          out.back().targets[row[8].as<std::string>()] = row[9].c_str();
                      }
                      return out;
                    });
}

absl::StatusOr<int64_t> AuditRepository::Purge(absl::Time before) {
  return pool_->Run(
      "purging the audit trail", [&](pqxx::connection& conn) -> absl::StatusOr<int64_t> {
        pqxx::work txn(conn);
        const pqxx::result r =
            txn.exec_params("DELETE FROM audit_log WHERE at < $1::timestamptz", ToSqlTime(before));
        txn.commit();
        return static_cast<int64_t>(r.affected_rows());
      });
}

}  // namespace shadowplane::store
