#include "store/migration_repository.h"

#include <pqxx/pqxx>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "store/location_repository.h"
#include "store/uuid.h"

namespace shadowplane::store {

namespace {

#define SP_UTC(column) "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

constexpr char kColumns[] =
    "m.id::text, m.request_id, m.resource_id::text, m.state, m.reason, "
    "COALESCE(m.source_instance_id::text, ''), COALESCE(m.target_instance_id::text, ''), "
    "m.target_location, m.target_capacity_type, COALESCE(m.lease_owner, ''), " SP_UTC(
        "m.lease_expires_at") ", COALESCE(m.error, ''), " SP_UTC("m.created_at") ", " SP_UTC("m.updated_at");

constexpr char kUnfinished[] = "m.state NOT IN ('DONE', 'ROLLED_BACK', 'FAILED')";

MigrationRecord FromRow(const pqxx::row& r) {
  MigrationRecord m;
  m.id = r[0].as<std::string>();
  m.request_id = r[1].as<std::string>();
  m.resource_id = r[2].as<std::string>();
  m.state = r[3].as<std::string>();
  m.reason = r[4].as<std::string>();
  m.source_instance_id = r[5].as<std::string>();
  m.target_instance_id = r[6].as<std::string>();
  m.target_location = r[7].as<std::string>();
  m.target_capacity_type = r[8].as<std::string>();
  m.lease_owner = r[9].as<std::string>();
  if (!r[10].is_null()) m.lease_expires_at = FromSqlTime(r[10].as<std::string>());
  m.error = r[11].as<std::string>();
  m.created_at = FromSqlTime(r[12].as<std::string>());
  m.updated_at = FromSqlTime(r[13].as<std::string>());
  return m;
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
                         kUnfinished),
            m.resource_id);
        if (!active.empty()) {
          return absl::FailedPreconditionError(
              absl::StrCat("resource ", m.resource_id, " is already migrating (migration ",
                           active[0][0].as<std::string>(), ", ", active[0][1].as<std::string>(),
                           "): one migration per resource at a time"));
        }
        const std::string at = ToSqlTime(now);
        const pqxx::result inserted = txn.exec_params(
            absl::StrCat("WITH m AS (INSERT INTO migrations (request_id, resource_id, state, "
                         "reason, source_instance_id, target_instance_id, target_location, "
                         "target_capacity_type, created_at, updated_at) VALUES ($1, $2::uuid, "
                         "'PLANNED', $3, $4::uuid, $5::uuid, $6, $7, $8::timestamptz, "
                         "$8::timestamptz) RETURNING *) SELECT ",
                         kColumns, " FROM m"),
            m.request_id, m.resource_id, m.reason, NonEmpty(m.source_instance_id),
            NonEmpty(m.target_instance_id), m.target_location, m.target_capacity_type, at);
        MigrationRecord record = FromRow(inserted[0]);
        txn.exec_params(
            "INSERT INTO migration_events (migration_id, at, from_state, to_state, detail) "
            "VALUES ($1::uuid, $2::timestamptz, NULL, 'PLANNED', jsonb_build_object('reason', "
            "$3::text))",
            record.id, at, m.reason);
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

absl::StatusOr<std::vector<MigrationEventRecord>> MigrationRepository::Events(
    const std::string& id) {
  if (!LooksLikeUuid(id)) return std::vector<MigrationEventRecord>{};
  return pool_->Run(
      "reading migration events",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<MigrationEventRecord>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            "SELECT id, " SP_UTC("at") ", COALESCE(from_state, ''), to_state, detail::text FROM "
            "migration_events WHERE migration_id = $1::uuid ORDER BY id",
            id);
        std::vector<MigrationEventRecord> out;
        for (const auto& r : rows) {
          out.push_back({r[0].as<int64_t>(), FromSqlTime(r[1].as<std::string>()),
                         r[2].as<std::string>(), r[3].as<std::string>(), r[4].as<std::string>()});
        }
        return out;
      });
}

absl::Status MigrationRepository::Transition(const std::string& id, const std::string& from,
                                             const std::string& to, const MigrationChange& change,
                                             absl::Time now, const std::string& owner) {
  if (!LooksLikeUuid(id)) return absl::NotFoundError(absl::StrCat("migration ", id, " not found"));
  return pool_->Run("moving a migration", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    const std::string at = ToSqlTime(now);
    std::optional<std::string> target;
    if (change.target_instance_id.has_value()) target = NonEmpty(*change.target_instance_id);
    const pqxx::result moved = txn.exec_params(
        "UPDATE migrations SET state = $3, updated_at = $4::timestamptz, target_instance_id = "
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
        "INSERT INTO migration_events (migration_id, at, from_state, to_state, detail) VALUES "
        "($1::uuid, $2::timestamptz, $3, $4, $5::jsonb)",
        id, at, from, to, change.detail_json.empty() ? "{}" : change.detail_json);
    txn.commit();
    return absl::OkStatus();
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

absl::Status MigrationRepository::Heartbeat(const std::string& id, const std::string& owner,
                                            absl::Duration ttl) {
  return pool_->Run("renewing a migration lease", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    const pqxx::result r = txn.exec_params(
        "UPDATE migrations SET lease_expires_at = now() + make_interval(secs => $3) WHERE id = "
        "$1::uuid AND lease_owner = $2 RETURNING id",
        id, owner, Seconds(ttl));
    if (r.empty()) {
      return absl::AbortedError(absl::StrCat("migration ", id, " is no longer leased by ", owner));
    }
    txn.commit();
    return absl::OkStatus();
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
