#include "store/write_lease_repository.h"

#include <map>
#include <pqxx/pqxx>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "store/sql_array.h"
#include "store/sql_time.h"
#include "store/uuid.h"

namespace shadowplane::store {
namespace {

// Whoever was granted the current epoch (with the epoch checks) holds the lease while it is live
// and recorded read-write, whatever its role: a grant comes before the migration's swap of roles.
constexpr char kWriterCondition[] =
    "NOT i.read_only AND i.state NOT IN ('stopped', 'failed') "
    "AND r.state IN ('pending', 'active')";

const std::string& LeaseSelect() {
  static const std::string* sql = new std::string(absl::StrCat(
      "SELECT i.id::text, i.resource_id::text, r.id::text, i.location, i.endpoint, i.write_epoch, "
      "r.primary_epoch, ",
      SP_SQL_UTC("i.lease_expires_at"), ", ", SP_SQL_UTC("i.lease_renewed_at"), ", ",
      SP_SQL_UTC("clock_timestamp()"),
      ", (SELECT m.request_id FROM migrations m WHERE m.resource_id = i.resource_id AND m.state "
      "NOT IN ('DONE', 'ROLLED_BACK', 'FAILED') LIMIT 1)"
      " FROM instances i JOIN reservations r ON r.resource_id = i.resource_id "));
  return *sql;
}

InstanceLease LeaseFromRow(const pqxx::row& row) {
  InstanceLease l;
  l.instance_id = row[0].as<std::string>();
  l.resource_id = row[1].as<std::string>();
  l.reservation_id = row[2].as<std::string>();
  l.location = row[3].as<std::string>();
  l.endpoint = row[4].as<std::string>();
  l.write_epoch = row[5].as<int64_t>();
  l.primary_epoch = row[6].as<int64_t>();
  if (!row[7].is_null()) l.expires_at = FromSqlTime(row[7].as<std::string>());
  if (!row[8].is_null()) l.renewed_at = FromSqlTime(row[8].as<std::string>());
  l.database_now = FromSqlTime(row[9].as<std::string>());
  if (!row[10].is_null()) l.migrating = row[10].as<std::string>();
  return l;
}

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

}  // namespace

const char* LeaseVerdictName(LeaseVerdict verdict) {
  switch (verdict) {
    case LeaseVerdict::kGranted:
      return "granted";
    case LeaseVerdict::kSuperseded:
      return "superseded";
    case LeaseVerdict::kNotWriter:
      return "not_writer";
  }
  return "unknown";
}

absl::StatusOr<int64_t> WriteLeaseRepository::Grant(const std::string& instance_id, bool new_epoch,
                                                    absl::Time now) {
  if (!LooksLikeUuid(instance_id)) {
    return absl::NotFoundError(absl::StrCat("instance ", instance_id, " not found"));
  }
  return pool_->Run("granting writes", [&](pqxx::connection& conn) -> absl::StatusOr<int64_t> {
    pqxx::work txn(conn);
    // The reservation row is locked first, so that two grants for one resource are ordered.
    const pqxx::result found = txn.exec_params(
        "SELECT r.primary_epoch, i.write_epoch FROM instances i JOIN reservations r ON "
        "r.resource_id = i.resource_id WHERE i.id = $1::uuid FOR UPDATE OF r",
        instance_id);
    if (found.empty()) {
      return absl::NotFoundError(absl::StrCat("instance ", instance_id, " not found"));
    }
    int64_t epoch = found[0][0].as<int64_t>();
    const int64_t held = found[0][1].as<int64_t>();
    if (new_epoch || epoch == 0) {
      ++epoch;  // a handover, or the resource's first primary
    } else if (held != epoch) {
      return absl::FailedPreconditionError(absl::StrCat(
          "instance ", instance_id, " was granted writes in epoch ", held,
          " but its resource is in epoch ", epoch, ": only a new grant may hand it writes"));
    }
    txn.exec_params(
        "UPDATE reservations SET primary_epoch = $2 WHERE resource_id = (SELECT resource_id FROM "
        "instances WHERE id = $1::uuid)",
        instance_id, epoch);
    txn.exec_params(
        "UPDATE instances SET read_only = false, write_epoch = $2, updated_at = $3::timestamptz "
        "WHERE id = $1::uuid",
        instance_id, epoch, ToSqlTime(now));
    txn.commit();
    return epoch;
  });
}

absl::Status WriteLeaseRepository::RecordLease(const std::string& instance_id, int64_t epoch,
                                               absl::Duration lease) {
  if (!LooksLikeUuid(instance_id)) return absl::OkStatus();
  return pool_->Run("recording a write lease", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    txn.exec_params(
        "UPDATE instances SET lease_expires_at = GREATEST(lease_expires_at, clock_timestamp() + "
        "make_interval(secs => $3)), lease_renewed_at = clock_timestamp() WHERE id = $1::uuid "
        "AND write_epoch = $2",
        instance_id, epoch, Seconds(lease));
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<LeaseRenewal> WriteLeaseRepository::Renew(const std::string& instance_id,
                                                         const std::string& location, int64_t epoch,
                                                         absl::Duration lease) {
  ASSIGN_OR_RETURN(std::vector<LeaseRenewal> answers,
                   RenewAll(location, {HeldLease{instance_id, epoch}}, lease));
  return answers.front();
}

absl::StatusOr<std::vector<LeaseRenewal>> WriteLeaseRepository::RenewAll(
    const std::string& location, const std::vector<HeldLease>& held, absl::Duration lease) {
  std::vector<LeaseRenewal> answers(held.size());
  SqlArray ids, epochs;
  bool any = false;
  for (const HeldLease& h : held) {
    if (!LooksLikeUuid(h.instance_id)) continue;  // unknown: not the writer
    ids.AddText(h.instance_id);
    epochs.AddInt(h.epoch);
    any = true;
  }
  if (!any) return answers;
  const std::string id_array = ids.Take(), epoch_array = epochs.Take();
  return pool_->Run(
      "renewing write leases",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<LeaseRenewal>> {
        pqxx::work txn(conn);
        std::set<std::pair<std::string, int64_t>> renewed;
        for (const auto& row : txn.exec_params(
                 absl::StrCat(
                     "UPDATE instances i SET lease_expires_at = GREATEST(i.lease_expires_at, "
                     "clock_timestamp() + make_interval(secs => $3)), lease_renewed_at = "
                     "clock_timestamp() FROM reservations r, unnest($1::uuid[], $2::bigint[]) AS "
                     "h(id, epoch) WHERE i.id = h.id AND r.resource_id = i.resource_id AND "
                     "i.write_epoch = h.epoch AND r.primary_epoch = h.epoch AND i.location = $4 "
                     "AND ",
                     kWriterCondition, " RETURNING i.id::text, r.primary_epoch"),
                 id_array, epoch_array, Seconds(lease), location)) {
          renewed.emplace(row[0].as<std::string>(), row[1].as<int64_t>());
        }
        // The resource's current epoch of every instance asked about, renewed or not.
        std::map<std::string, int64_t> current;
        for (const auto& row : txn.exec_params(
                 "SELECT i.id::text, r.primary_epoch FROM instances i JOIN reservations r ON "
                 "r.resource_id = i.resource_id WHERE i.id = ANY($1::uuid[])",
                 id_array)) {
          current[row[0].as<std::string>()] = row[1].as<int64_t>();
        }
        txn.commit();
        for (size_t k = 0; k < held.size(); ++k) {
          const HeldLease& h = held[k];
          LeaseRenewal& out = answers[k];
          const auto known = current.find(h.instance_id);
          if (known == current.end()) continue;  // unknown: not the writer
          out.current_epoch = known->second;
          if (renewed.count({h.instance_id, h.epoch}) != 0) {
            out.verdict = LeaseVerdict::kGranted;
          } else {
            out.verdict =
                out.current_epoch > h.epoch ? LeaseVerdict::kSuperseded : LeaseVerdict::kNotWriter;
          }
        }
        return answers;
      });
}

absl::StatusOr<InstanceLease> WriteLeaseRepository::Lease(const std::string& instance_id) {
  if (!LooksLikeUuid(instance_id)) {
    return absl::NotFoundError(absl::StrCat("instance ", instance_id, " not found"));
  }
  return pool_->Run(
      "reading a write lease", [&](pqxx::connection& conn) -> absl::StatusOr<InstanceLease> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows =
            txn.exec_params(absl::StrCat(LeaseSelect(), "WHERE i.id = $1::uuid"), instance_id);
        if (rows.empty()) {
          return absl::NotFoundError(absl::StrCat("instance ", instance_id, " not found"));
        }
        return LeaseFromRow(rows[0]);
      });
}

absl::StatusOr<std::vector<InstanceLease>> WriteLeaseRepository::Silent(absl::Duration silent_for,
                                                                        int limit) {
  return pool_->Run(
      "finding silent primaries",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<InstanceLease>> {
        pqxx::read_transaction txn(conn);
        std::vector<InstanceLease> out;
        for (const auto& row : txn.exec_params(
                 absl::StrCat(
                     LeaseSelect(),
                     "WHERE i.role = 'primary' AND NOT i.read_only AND i.state NOT IN "
                     "('stopped', 'failed') AND r.state = 'active' AND i.lease_renewed_at < "
                     "clock_timestamp() - make_interval(secs => $1) ORDER BY "
                     "i.lease_renewed_at LIMIT $2"),
                 Seconds(silent_for), limit)) {
          out.push_back(LeaseFromRow(row));
        }
        return out;
      });
}

}  // namespace shadowplane::store
