#include "store/lease_store.h"

#include <pqxx/pqxx>

namespace shadowplane::store {

absl::StatusOr<bool> LeaseStore::TryAcquire(const std::string& name, const std::string& owner,
                                            absl::Duration ttl) {
  const double seconds = absl::ToDoubleSeconds(ttl);
  return pool_->Run("taking a lease", [&](pqxx::connection& conn) -> absl::StatusOr<bool> {
    pqxx::work txn(conn);
    // One statement: insert, or take over when expired or already ours.
    const pqxx::result r = txn.exec_params(
        "INSERT INTO leases (name, owner, expires_at) "
        "VALUES ($1, $2, now() + make_interval(secs => $3)) "
        "ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at "
        "WHERE leases.owner = EXCLUDED.owner OR leases.expires_at < now() "
        "RETURNING owner",
        name, owner, seconds);
    txn.commit();
    return !r.empty();
  });
}

absl::Status LeaseStore::Release(const std::string& name, const std::string& owner) {
  return pool_->Run("releasing a lease", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    txn.exec_params("DELETE FROM leases WHERE name = $1 AND owner = $2", name, owner);
    txn.commit();
    return absl::OkStatus();
  });
}

}  // namespace shadowplane::store
