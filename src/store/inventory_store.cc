#include "store/inventory_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "store/uuid.h"

namespace shadowplane::store {
namespace {

// A PostgreSQL array literal of UUID-shaped strings; anything else is left out (not live).
std::string UuidArrayLiteral(const std::vector<std::string>& ids) {
  std::vector<std::string> uuids;
  for (const std::string& id : ids) {
    if (LooksLikeUuid(id)) uuids.push_back(id);
  }
  return absl::StrCat("{", absl::StrJoin(uuids, ","), "}");
}

}  // namespace

absl::StatusOr<std::map<std::string, std::string>> InventoryStore::AgentEndpoints() {
  return pool_->Run(
      "reading agent endpoints",
      [](pqxx::connection& conn) -> absl::StatusOr<std::map<std::string, std::string>> {
        pqxx::read_transaction txn(conn);
        std::map<std::string, std::string> endpoints;
        for (const auto& row : txn.exec("SELECT name, agent_endpoint FROM locations "
                                        "WHERE agent_endpoint <> '' ORDER BY name")) {
          endpoints[row[0].as<std::string>()] = row[1].as<std::string>();
        }
        return endpoints;
      });
}

absl::StatusOr<std::string> InventoryStore::AgentEndpoint(const std::string& location) {
  return pool_->Run(
      "reading an agent endpoint", [&](pqxx::connection& conn) -> absl::StatusOr<std::string> {
        pqxx::read_transaction txn(conn);
        const pqxx::result r =
            txn.exec_params("SELECT agent_endpoint FROM locations WHERE name = $1", location);
        if (r.empty() || r[0][0].as<std::string>().empty()) {
          return absl::NotFoundError(
              absl::StrCat("location '", location, "' has no agent endpoint"));
        }
        return r[0][0].as<std::string>();
      });
}

absl::StatusOr<std::set<std::string>> InventoryStore::LiveResources(
    const std::vector<std::string>& resource_ids) {
  return pool_->Run(
      "reading live resources",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::set<std::string>> {
        pqxx::read_transaction txn(conn);
        std::set<std::string> live;
        for (const auto& row : txn.exec_params("SELECT id::text FROM resources "
                                               "WHERE deleted_at IS NULL AND id = ANY($1::uuid[])",
                                               UuidArrayLiteral(resource_ids))) {
          live.insert(row[0].as<std::string>());
        }
        return live;
      });
}

absl::StatusOr<std::vector<std::string>> InventoryStore::LiveInstanceEndpoints(
    const std::string& location) {
  return pool_->Run("reading a location's instance endpoints",
                    [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<std::string>> {
                      pqxx::read_transaction txn(conn);
                      std::vector<std::string> endpoints;
                      for (const auto& row : txn.exec_params(
                               "SELECT endpoint FROM instances WHERE location = $1 AND state NOT "
                               "IN ('stopped', 'failed') AND endpoint <> '' ORDER BY id",
                               location)) {
                        endpoints.push_back(row[0].as<std::string>());
                      }
                      return endpoints;
                    });
}

absl::StatusOr<std::set<std::string>> InventoryStore::RecordedInstances(
    const std::vector<std::string>& instance_ids) {
  return pool_->Run("reading recorded instances",
                    [&](pqxx::connection& conn) -> absl::StatusOr<std::set<std::string>> {
                      pqxx::read_transaction txn(conn);
                      std::set<std::string> live;
                      for (const auto& row : txn.exec_params(
                               "SELECT id::text FROM instances WHERE state NOT IN ('stopped', "
                               "'failed') AND id = ANY($1::uuid[])",
                               UuidArrayLiteral(instance_ids))) {
                        live.insert(row[0].as<std::string>());
                      }
                      return live;
                    });
}

absl::StatusOr<bool> RunUnderAdvisoryLock(ConnectionPool& pool, int64_t key,
                                          const std::function<absl::Status()>& fn) {
  auto conn = pool.Acquire();
  if (!conn.ok()) return conn.status();
  auto locked = CatchDatabaseErrors("taking an advisory lock", [&]() -> absl::StatusOr<bool> {
    pqxx::nontransaction txn(**conn);
    return txn.exec_params1("SELECT pg_try_advisory_lock($1)", key)[0].as<bool>();
  });
  if (!locked.ok()) {
    conn->MarkBroken();
    return locked.status();
  }
  if (!*locked) return false;
  const absl::Status result = fn();
  const absl::Status unlocked = CatchDatabaseErrors("releasing an advisory lock", [&] {
    pqxx::nontransaction txn(**conn);
    txn.exec_params("SELECT pg_advisory_unlock($1)", key);
    return absl::OkStatus();
  });
  // A connection that could not unlock may still hold the lock: close it, which releases it.
  if (!unlocked.ok()) conn->MarkBroken();
  if (!result.ok()) return result;
  return true;
}

}  // namespace shadowplane::store
