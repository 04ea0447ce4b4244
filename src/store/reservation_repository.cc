#include "store/reservation_repository.h"

#include <pqxx/pqxx>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "store/location_repository.h"
#include "store/sql_time.h"
#include "store/team_quota.h"
#include "store/uuid.h"

namespace shadowplane::store {
namespace {

// A reservation with its current primary and shadow (the newest instance of each role), in one
// statement: one round trip, and one consistent snapshot.
std::string InstanceLateral(const char* role, const char* alias) {
  return absl::StrCat(
      " LEFT JOIN LATERAL (SELECT i.id::text, i.role, i.location, l.region, i.capacity_millicores, "
      "i.memory_mib, i.capacity_type, i.read_only, i.state, i.endpoint FROM instances i JOIN "
      "locations l ON l.name = i.location WHERE i.resource_id = r.resource_id AND i.role = '",
      role, "' ORDER BY i.created_at DESC LIMIT 1) ", alias, " ON true ");
}

// One instance row as InstanceFromRow reads it (from column 0); a WHERE clause follows.
constexpr char kInstanceSelect[] =
    "SELECT i.id::text, i.role, i.location, l.region, i.capacity_millicores, i.memory_mib, "
    "i.capacity_type, i.read_only, i.state, i.endpoint FROM instances i JOIN locations l ON "
    "l.name = i.location WHERE ";

const std::string& ReservationSelect() {
  static const std::string* sql = new std::string(absl::StrCat(
      "SELECT r.id::text, r.request_id, r.resource_id::text, res.name, r.state, "
      "r.capacity_millicores, r.memory_mib, r.capacity_type, res.data_size_bytes, r.seed_dir, "
      "r.shadow_capacity_fraction, r.shadow_sync_interval_seconds, r.placement::text, "
      "r.explanation, COALESCE(r.error, ''), ",
      SP_SQL_UTC("r.created_at"), ", ", SP_SQL_UTC("r.updated_at"), ", p.*, s.*, ",
      SP_SQL_UTC("r.last_synced_at"),
      ", COALESCE(r.last_sync_error, ''), r.traffic_provider, "
      "r.service_name, r.planner_overrides, ",
      SP_SQL_UTC("r.telemetry_purge_requested_at"), ", ", SP_SQL_UTC("r.telemetry_purged_at"),
      ", COALESCE(r.owner_team, ''), res.forward_secret"
      " FROM reservations r JOIN resources res ON res.id = r.resource_id ",
      InstanceLateral("primary", "p"), InstanceLateral("shadow", "s")));
  return *sql;
}

constexpr int kPrimaryColumn = 17;
constexpr int kShadowColumn = 27;

// The instance whose columns start at `at`; empty when there is none (a NULL id).
InstanceRecord InstanceFromRow(const pqxx::row& r, int at) {
  InstanceRecord i;
  if (r[at].is_null()) return i;
  i.id = r[at].as<std::string>();
  i.role = r[at + 1].as<std::string>();
  i.location = r[at + 2].as<std::string>();
  i.region = r[at + 3].as<std::string>();
  i.capacity.millicores = r[at + 4].as<int64_t>();
  i.capacity.memory_mib = r[at + 5].as<int64_t>();
  ParseCapacityType(r[at + 6].as<std::string>(), &i.capacity.type);
  i.read_only = r[at + 7].as<bool>();
  i.state = r[at + 8].as<std::string>();
  i.endpoint = r[at + 9].as<std::string>();
  return i;
}

ReservationRecord FromRow(const pqxx::row& row) {
  ReservationRecord r;
  r.id = row[0].as<std::string>();
  r.request_id = row[1].as<std::string>();
  r.resource_id = row[2].as<std::string>();
  r.name = row[3].as<std::string>();
  r.state = row[4].as<std::string>();
  r.capacity.millicores = row[5].as<int64_t>();
  r.capacity.memory_mib = row[6].as<int64_t>();
  ParseCapacityType(row[7].as<std::string>(), &r.capacity.type);
  r.data_size_bytes = row[8].as<int64_t>();
  r.seed_dir = row[9].as<std::string>();
  r.shadow_capacity_fraction = row[10].as<double>();
  r.shadow_sync_interval_seconds = row[11].as<double>();
  r.placement_json = row[12].as<std::string>();
  r.explanation = row[13].as<std::string>();
  r.error = row[14].as<std::string>();
  r.created_at = FromSqlTime(row[15].as<std::string>());
  r.updated_at = FromSqlTime(row[16].as<std::string>());
  r.primary = InstanceFromRow(row, kPrimaryColumn);
  r.shadow = InstanceFromRow(row, kShadowColumn);
  constexpr int kSyncColumn = kShadowColumn + 10;
  if (!row[kSyncColumn].is_null())
    r.last_synced_at = FromSqlTime(row[kSyncColumn].as<std::string>());
  r.last_sync_error = row[kSyncColumn + 1].as<std::string>();
  r.traffic_provider = row[kSyncColumn + 2].as<std::string>();
  r.service_name = row[kSyncColumn + 3].as<std::string>();
  r.planner_overrides_json = row[kSyncColumn + 4].as<std::string>();
  for (const auto& [column, field] : {std::pair{kSyncColumn + 5, &r.telemetry_purge_requested_at},
                                      std::pair{kSyncColumn + 6, &r.telemetry_purged_at}}) {
    if (!row[column].is_null()) *field = FromSqlTime(row[column].as<std::string>());
  }
  r.owner_team = row[kSyncColumn + 7].as<std::string>();
  r.forward_secret = row[kSyncColumn + 8].as<std::string>();
  return r;
}

std::string InsertInstance(pqxx::work& txn, const std::string& resource_id, const InstanceRecord& i,
                           const std::string& now) {
  return txn
      .exec_params1(
          "INSERT INTO instances (resource_id, role, location, capacity_millicores, memory_mib, "
          "capacity_type, read_only, state, endpoint, created_at, updated_at) VALUES ($1::uuid, "
          "$2, $3, $4, $5, $6, $7, 'creating', '', $8::timestamptz, $8::timestamptz) "
          "RETURNING id::text",
          resource_id, i.role, i.location, i.capacity.millicores, i.capacity.memory_mib,
          CapacityTypeName(i.capacity.type), i.read_only, now)[0]
      .as<std::string>();
}

}  // namespace

absl::StatusOr<ReservationRecord> ReservationRepository::CreatePending(
    ReservationRecord draft, absl::Time now, const std::optional<TeamQuota>& quota) {
  return pool_->Run(
      "recording a reservation", [&](pqxx::connection& conn) -> absl::StatusOr<ReservationRecord> {
        pqxx::work txn(conn);
        if (!draft.owner_team.empty() && quota.has_value()) {
          RETURN_IF_ERROR(CheckTeamQuota(txn, draft.owner_team, *quota, draft.capacity, ""));
        }
        const std::string at = ToSqlTime(now);
        const pqxx::row resource = txn.exec_params1(
            "INSERT INTO resources (name, data_size_bytes, created_at) "
            "VALUES ($1, $2, $3::timestamptz) RETURNING id::text, forward_secret",
            draft.name, draft.data_size_bytes, at);
        draft.resource_id = resource[0].as<std::string>();
        draft.forward_secret = resource[1].as<std::string>();
        draft.id =
            txn.exec_params1(
                   "INSERT INTO reservations (request_id, resource_id, state, "
                   "placement, capacity_millicores, memory_mib, capacity_type, "
                   "shadow_capacity_fraction, shadow_sync_interval_seconds, "
                   "explanation, seed_dir, created_at, updated_at, traffic_provider, "
                   "service_name, planner_overrides, owner_team) VALUES ($1, $2::uuid, 'pending', "
                   "$3::jsonb, $4, $5, $6, $7, $8, $9, $10, $11::timestamptz, $11::timestamptz, "
                   "$12, $13, $14, NULLIF($15, '')) RETURNING id::text",
                   draft.request_id, draft.resource_id, draft.placement_json,
                   draft.capacity.millicores, draft.capacity.memory_mib,
                   CapacityTypeName(draft.capacity.type), draft.shadow_capacity_fraction,
                   draft.shadow_sync_interval_seconds, draft.explanation, draft.seed_dir, at,
                   draft.traffic_provider, draft.service_name, draft.planner_overrides_json,
                   draft.owner_team)[0]
                .as<std::string>();
        draft.primary.id = InsertInstance(txn, draft.resource_id, draft.primary, at);
        draft.shadow.id = InsertInstance(txn, draft.resource_id, draft.shadow, at);
        txn.commit();
        draft.state = "pending";
        draft.primary.state = draft.shadow.state = "creating";
        draft.created_at = draft.updated_at = now;
        return draft;
      });
}

absl::StatusOr<std::string> ReservationRepository::PlacementOfResource(
    const std::string& resource_id) {
  if (!LooksLikeUuid(resource_id)) return std::string();
  return pool_->Run(
      "reading a placement", [&](pqxx::connection& conn) -> absl::StatusOr<std::string> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            "SELECT placement::text FROM reservations WHERE resource_id = $1::uuid", resource_id);
        return rows.empty() ? std::string() : rows[0][0].as<std::string>();
      });
}

absl::StatusOr<ReservationRecord> ReservationRepository::Get(const std::string& id) {
  return pool_->Run(
      "reading a reservation", [&](pqxx::connection& conn) -> absl::StatusOr<ReservationRecord> {
        // An id that is not a UUID is simply not found (and never reaches a uuid cast).
        if (!LooksLikeUuid(id)) {
          return absl::NotFoundError(absl::StrCat("reservation '", id, "' does not exist"));
        }
        // The hottest read: one statement, prepared once per connection.
        conn.prepare("get_reservation", ReservationSelect() + "WHERE r.id = $1::uuid");
        pqxx::nontransaction txn(conn);
        const pqxx::result r = txn.exec_prepared("get_reservation", id);
        if (r.empty()) {
          return absl::NotFoundError(absl::StrCat("reservation '", id, "' does not exist"));
        }
        return FromRow(r[0]);
      });
}

absl::StatusOr<ReservationRecord> ReservationRepository::GetByResource(
    const std::string& resource_id) {
  if (!LooksLikeUuid(resource_id)) {
    return absl::NotFoundError(absl::StrCat("no reservation of resource '", resource_id, "'"));
  }
  return pool_->Run("reading a resource's reservation",
                    [&](pqxx::connection& conn) -> absl::StatusOr<ReservationRecord> {
                      pqxx::read_transaction txn(conn);
                      const pqxx::result r = txn.exec_params(
                          ReservationSelect() + "WHERE r.resource_id = $1::uuid", resource_id);
                      if (r.empty()) {
                        return absl::NotFoundError(
                            absl::StrCat("no reservation of resource '", resource_id, "'"));
                      }
                      return FromRow(r[0]);
                    });
}

absl::StatusOr<std::optional<ReservationRecord>> ReservationRepository::FindByRequestId(
    const std::string& request_id) {
  return pool_->Run(
      "finding a reservation by request id",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::optional<ReservationRecord>> {
        pqxx::nontransaction txn(conn);
        const pqxx::result r =
            txn.exec_params(ReservationSelect() + "WHERE r.request_id = $1", request_id);
        if (r.empty()) return std::optional<ReservationRecord>();
        return std::optional<ReservationRecord>(FromRow(r[0]));
      });
}

absl::StatusOr<std::vector<ReservationRecord>> ReservationRepository::List(
    const ReservationFilter& f) {
  return pool_->Run(
      "listing reservations",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<ReservationRecord>> {
        pqxx::read_transaction txn(conn);
        std::vector<ReservationRecord> out;
        for (const auto& row : txn.exec_params(
                 ReservationSelect() +
                     "WHERE r.id::text > $1 AND ($2 = '' OR r.state = $2) AND ($3 = '' OR EXISTS "
                     "(SELECT 1 FROM instances i WHERE i.resource_id = r.resource_id AND "
                     "i.location = $3 AND i.state NOT IN ('stopped', 'failed'))) "
                     "AND ($5 = '' OR r.owner_team = $5) ORDER BY r.id LIMIT $4",
                 f.after, f.state, f.location, f.page_size, f.owner_team)) {
          out.push_back(FromRow(row));
        }
        return out;
      });
}

absl::StatusOr<std::optional<std::string>> ReservationRepository::OwnerTeamOf(
    Owned what, const std::string& id) {
  if (!LooksLikeUuid(id)) return std::optional<std::string>();
  const char* sql = nullptr;
  switch (what) {
    case Owned::kReservation:
      sql = "SELECT COALESCE(owner_team, '') FROM reservations WHERE id = $1::uuid";
      break;
    case Owned::kMigration:
      sql =
          "SELECT COALESCE(r.owner_team, '') FROM migrations m JOIN reservations r ON "
          "r.resource_id = m.resource_id WHERE m.id = $1::uuid";
      break;
    case Owned::kDecision:
      sql =
          "SELECT COALESCE(r.owner_team, '') FROM planner_decisions d JOIN reservations r ON "
          "r.id = d.reservation_id WHERE d.id = $1::uuid";
      break;
  }
  return pool_->Run("reading an owner team",
                    [&](pqxx::connection& conn) -> absl::StatusOr<std::optional<std::string>> {
                      pqxx::nontransaction txn(conn);
                      const pqxx::result r = txn.exec_params(sql, id);
                      if (r.empty()) return std::optional<std::string>();
                      return std::optional<std::string>(r[0][0].as<std::string>());
                    });
}

absl::StatusOr<std::vector<std::string>> ReservationRepository::IdsInState(const std::string& state,
                                                                           int limit) {
  return pool_->Run(
      "listing reservations by state",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<std::string>> {
        pqxx::read_transaction txn(conn);
        std::vector<std::string> ids;
        for (const auto& row : txn.exec_params("SELECT id::text FROM reservations WHERE state = $1 "
                                               "ORDER BY updated_at LIMIT $2",
                                               state, limit)) {
          ids.push_back(row[0].as<std::string>());
        }
        return ids;
      });
}

absl::Status ReservationRepository::SetInstance(const std::string& instance_id,
                                                const std::string& state,
                                                const std::string& endpoint, absl::Time now) {
  return pool_->Run("updating an instance", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    txn.exec_params(
        "UPDATE instances SET state = $2, endpoint = $3, updated_at = $4::timestamptz "
        "WHERE id = $1::uuid",
        instance_id, state, endpoint, ToSqlTime(now));
    txn.commit();
    return absl::OkStatus();
  });
}

absl::Status ReservationRepository::SetInstanceReadOnly(const std::string& instance_id,
                                                        bool read_only, absl::Time now) {
  return pool_->Run("updating an instance's mode", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    txn.exec_params(
        "UPDATE instances SET read_only = $2, updated_at = $3::timestamptz WHERE id = $1::uuid",
        instance_id, read_only, ToSqlTime(now));
    txn.commit();
    return absl::OkStatus();
  });
}

absl::Status ReservationRepository::SetInstanceCapacity(const std::string& instance_id,
                                                        const Capacity& capacity, absl::Time now) {
  return pool_->Run("updating an instance's capacity", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    txn.exec_params(
        "UPDATE instances SET capacity_millicores = $2, memory_mib = $3, "
        "updated_at = $4::timestamptz WHERE id = $1::uuid",
        instance_id, capacity.millicores, capacity.memory_mib, ToSqlTime(now));
    txn.commit();
    return absl::OkStatus();
  });
}

absl::Status ReservationRepository::SwapRoles(const std::string& resource_id,
                                              const std::string& new_primary, absl::Time now,
                                              const std::string& keep_shadow) {
  if (!LooksLikeUuid(resource_id) || !LooksLikeUuid(new_primary) ||
      (!keep_shadow.empty() && !LooksLikeUuid(keep_shadow))) {
    return absl::FailedPreconditionError(absl::StrCat(
        "instance ", new_primary, " is not a live instance of resource ", resource_id));
  }
  return pool_->Run("swapping primary and shadow", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    const pqxx::result live = txn.exec_params(
        "SELECT id::text, role FROM instances WHERE resource_id = $1::uuid AND state NOT IN "
        "('stopped', 'failed') FOR UPDATE",
        resource_id);
    std::string old_primary, target_role;
    bool shadow_live = keep_shadow.empty();
    for (const auto& row : live) {
      const std::string id = row[0].as<std::string>(), role = row[1].as<std::string>();
      if (role == "primary") old_primary = id;
      if (id == new_primary) target_role = role;
      if (id == keep_shadow) shadow_live = true;
    }
    if (target_role.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "instance ", new_primary, " is not a live instance of resource ", resource_id));
    }
    if (target_role == "primary") return absl::OkStatus();  // done before
    if (!shadow_live || keep_shadow == new_primary) {
      return absl::FailedPreconditionError(
          absl::StrCat("instance ", keep_shadow, " cannot stay the shadow of resource ",
                       resource_id, ": it is not another live instance of it"));
    }
    const std::string shadow = keep_shadow.empty() ? old_primary : keep_shadow;
    const std::string at = ToSqlTime(now);
    // The old primary steps down first: the one-live-primary index is checked row by row.
    txn.exec_params(
        "UPDATE instances SET role = CASE WHEN id = $2::uuid THEN 'shadow' ELSE 'retired' END, "
        "read_only = true, updated_at = $3::timestamptz WHERE resource_id = $1::uuid AND id <> "
        "$4::uuid AND state NOT IN ('stopped', 'failed')",
        resource_id, shadow.empty() ? new_primary : shadow, at, new_primary);
    txn.exec_params(
        "UPDATE instances SET role = 'primary', read_only = false, updated_at = $2::timestamptz "
        "WHERE id = $1::uuid",
        new_primary, at);
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<InstanceRecord> ReservationRepository::AddTarget(const std::string& resource_id,
                                                                const std::string& location,
                                                                const Capacity& capacity,
                                                                absl::Time now) {
  if (!LooksLikeUuid(resource_id)) {
    return absl::NotFoundError(absl::StrCat("resource ", resource_id, " not found"));
  }
  return pool_->Run(
      "recording a migration target",
      [&](pqxx::connection& conn) -> absl::StatusOr<InstanceRecord> {
        pqxx::work txn(conn);
        const pqxx::result existing = txn.exec_params(
            absl::StrCat(kInstanceSelect,
                         "i.resource_id = $1::uuid AND i.role = 'target' AND i.location = $2 AND "
                         "i.capacity_type = $3 AND i.state NOT IN ('stopped', 'failed')"),
            resource_id, location, CapacityTypeName(capacity.type));
        if (!existing.empty()) return InstanceFromRow(existing[0], 0);
        const pqxx::result id = txn.exec_params(
            "INSERT INTO instances (resource_id, role, location, capacity_millicores, memory_mib, "
            "capacity_type, read_only, state, created_at, updated_at) VALUES ($1::uuid, 'target', "
            "$2, $3, $4, $5, true, 'creating', $6::timestamptz, $6::timestamptz) RETURNING "
            "id::text",
            resource_id, location, capacity.millicores, capacity.memory_mib,
            CapacityTypeName(capacity.type), ToSqlTime(now));
        const pqxx::result row = txn.exec_params(absl::StrCat(kInstanceSelect, "i.id = $1::uuid"),
                                                 id[0][0].as<std::string>());
        txn.commit();
        return InstanceFromRow(row[0], 0);
      });
}

absl::StatusOr<InstanceRecord> ReservationRepository::ReplaceShadow(const std::string& resource_id,
                                                                    const std::string& old_shadow,
                                                                    const std::string& location,
                                                                    const Capacity& capacity,
                                                                    absl::Time now) {
  if (!LooksLikeUuid(resource_id) || !LooksLikeUuid(old_shadow)) {
    return absl::FailedPreconditionError(
        absl::StrCat("instance ", old_shadow, " is not the live shadow of resource ", resource_id));
  }
  return pool_->Run(
      "replacing a lost shadow", [&](pqxx::connection& conn) -> absl::StatusOr<InstanceRecord> {
        pqxx::work txn(conn);
        const pqxx::result old = txn.exec_params(
            "SELECT role, state FROM instances WHERE id = $1::uuid AND resource_id = $2::uuid FOR "
            "UPDATE",
            old_shadow, resource_id);
        if (!old.empty() && old[0][0].as<std::string>() == "retired") {
          // Replaced before: the newest shadow is the replacement.
          const pqxx::result newest = txn.exec_params(
              absl::StrCat(kInstanceSelect,
                           "i.resource_id = $1::uuid AND i.role = 'shadow' AND i.state NOT IN "
                           "('stopped', 'failed') ORDER BY i.created_at DESC LIMIT 1"),
              resource_id);
          if (!newest.empty()) return InstanceFromRow(newest[0], 0);
        }
        if (old.empty() || old[0][0].as<std::string>() != "shadow" ||
            !IsLiveState(old[0][1].as<std::string>())) {
          return absl::FailedPreconditionError(absl::StrCat(
              "instance ", old_shadow, " is not the live shadow of resource ", resource_id));
        }
        if (!txn.exec_params("SELECT 1 FROM migrations WHERE resource_id = $1::uuid AND state "
                             "NOT IN ('DONE', 'ROLLED_BACK', 'FAILED', 'OBSERVING')",
                             resource_id)
                 .empty()) {
          return absl::FailedPreconditionError(absl::StrCat("a migration of resource ", resource_id,
                                                            " is under way: it decides the roles"));
        }
        const std::string at = ToSqlTime(now);
        txn.exec_params(
            "UPDATE instances SET role = 'retired', state = 'failed', read_only = true, "
            "updated_at = $2::timestamptz WHERE id = $1::uuid",
            old_shadow, at);
        const pqxx::result id = txn.exec_params(
            "INSERT INTO instances (resource_id, role, location, capacity_millicores, memory_mib, "
            "capacity_type, read_only, state, created_at, updated_at) VALUES ($1::uuid, 'shadow', "
            "$2, $3, $4, $5, true, 'creating', $6::timestamptz, $6::timestamptz) RETURNING "
            "id::text",
            resource_id, location, capacity.millicores, capacity.memory_mib,
            CapacityTypeName(capacity.type), at);
        txn.exec_params(
            "UPDATE reservations SET last_synced_at = NULL, updated_at = $2::timestamptz WHERE "
            "resource_id = $1::uuid",
            resource_id, at);
        const pqxx::result row = txn.exec_params(absl::StrCat(kInstanceSelect, "i.id = $1::uuid"),
                                                 id[0][0].as<std::string>());
        txn.commit();
        return InstanceFromRow(row[0], 0);
      });
}

absl::StatusOr<std::vector<InstanceRecord>> ReservationRepository::Instances(
    const std::string& resource_id) {
  if (!LooksLikeUuid(resource_id)) return std::vector<InstanceRecord>{};
  return pool_->Run(
      "listing a resource's instances",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<InstanceRecord>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            absl::StrCat(kInstanceSelect, "i.resource_id = $1::uuid ORDER BY i.created_at, i.id"),
            resource_id);
        std::vector<InstanceRecord> out;
        for (const auto& r : rows) out.push_back(InstanceFromRow(r, 0));
        return out;
      });
}

absl::Status ReservationRepository::SetState(const std::string& id, const std::string& state,
                                             const std::string& error, absl::Time now,
                                             const std::string& only_from) {
  return pool_->Run("updating a reservation", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    const std::string at = ToSqlTime(now);
    const pqxx::result r = txn.exec_params(
        "UPDATE reservations SET state = $2, error = NULLIF($3, ''), updated_at = $4::timestamptz, "
        "released_at = CASE WHEN $2 = 'released' THEN $4::timestamptz ELSE released_at END "
        "WHERE id = $1::uuid RETURNING resource_id::text",
        id, state, error, at);
    if (r.empty())
      return absl::NotFoundError(absl::StrCat("reservation '", id, "' does not exist"));
    if (state == "released" || state == "failed") {
      const std::string resource = r[0][0].as<std::string>();
      txn.exec_params(
          "UPDATE resources SET deleted_at = $2::timestamptz WHERE id = $1::uuid AND deleted_at "
          "IS NULL",
          resource, at);
      txn.exec_params(
          "UPDATE instances SET state = $2, updated_at = $3::timestamptz WHERE resource_id = "
          "$1::uuid AND state NOT IN ('stopped', 'failed')",
          resource, state == "released" ? "stopped" : "failed", at);
    }
    txn.commit();
    return absl::OkStatus();
  });
}

absl::Status ReservationRepository::ClaimCapacity(const std::string& id, const Capacity& capacity,
                                                  const std::optional<TeamQuota>& quota,
                                                  absl::Time now) {
  if (!LooksLikeUuid(id)) {
    return absl::NotFoundError(absl::StrCat("reservation '", id, "' does not exist"));
  }
  return pool_->Run("claiming capacity", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    const pqxx::result r = txn.exec_params(
        "SELECT COALESCE(owner_team, '') FROM reservations WHERE id = $1::uuid", id);
    if (r.empty()) {
      return absl::NotFoundError(absl::StrCat("reservation '", id, "' does not exist"));
    }
    const std::string team = r[0][0].as<std::string>();
    if (!team.empty() && quota.has_value()) {
      RETURN_IF_ERROR(CheckTeamQuota(txn, team, *quota, capacity, id));
    }
    txn.exec_params(
        "UPDATE reservations SET capacity_millicores = $2, memory_mib = $3, "
        "updated_at = $4::timestamptz WHERE id = $1::uuid",
        id, capacity.millicores, capacity.memory_mib, ToSqlTime(now));
    txn.commit();
    return absl::OkStatus();
  });
}

absl::Status ReservationRepository::UpdateSettings(const ReservationRecord& r, absl::Time now) {
  return pool_->Run(
      "updating a reservation's settings", [&](pqxx::connection& conn) -> absl::Status {
        pqxx::work txn(conn);
        txn.exec_params(
            "UPDATE reservations SET capacity_millicores = $2, memory_mib = $3, "
            "shadow_capacity_fraction = $4, shadow_sync_interval_seconds = $5, "
            "updated_at = $6::timestamptz, planner_overrides = $7 WHERE id = $1::uuid",
            r.id, r.capacity.millicores, r.capacity.memory_mib, r.shadow_capacity_fraction,
            r.shadow_sync_interval_seconds, ToSqlTime(now), r.planner_overrides_json);
        txn.commit();
        return absl::OkStatus();
      });
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> ReservationRepository::CountByState() {
  return pool_->Run(
      "counting reservations",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> {
        pqxx::read_transaction txn(conn);
        std::vector<std::pair<std::string, int64_t>> out;
        for (const auto& row :
             txn.exec("SELECT state, count(*) FROM reservations GROUP BY state")) {
          out.emplace_back(row[0].as<std::string>(), row[1].as<int64_t>());
        }
        return out;
      });
}

absl::StatusOr<std::vector<ReservationRepository::InstanceCount>>
ReservationRepository::CountInstances() {
  return pool_->Run(
      "counting instances",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<InstanceCount>> {
        pqxx::read_transaction txn(conn);
        std::vector<InstanceCount> out;
        for (const auto& row : txn.exec("SELECT location, state, count(*) FROM instances "
                                        "GROUP BY location, state")) {
          out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int64_t>()});
        }
        return out;
      });
}

}  // namespace shadowplane::store
