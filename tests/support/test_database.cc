#include "support/test_database.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "store/database_error.h"
#include "store/embedded_migrations.h"
#include "store/migration_runner.h"

namespace shadowplane::testing {

absl::StatusOr<std::unique_ptr<TestDatabase>> TestDatabase::Create() {
  const char* admin = std::getenv("SHADOWPLANE_TEST_DATABASE_URL");
  if (admin == nullptr || *admin == '\0') {
    return absl::FailedPreconditionError(
        "SHADOWPLANE_TEST_DATABASE_URL is not set: PostgreSQL-backed tests need the cluster that "
        "./deploy/test.sh starts (run the tests through it)");
  }
  static std::atomic<int> counter{0};
  const std::string name = absl::StrCat("t_", getpid(), "_", counter++, "_",
                                        absl::ToUnixMicros(absl::Now()) % 1000000000);
  const std::string admin_url = admin;
  // The admin URL names database "postgres": swap the path for the new database.
  const size_t slash = admin_url.rfind('/');
  const std::string url = admin_url.substr(0, slash + 1) + name;
  absl::Status created = store::CatchDatabaseErrors("creating test database", [&] {
    pqxx::connection conn(admin_url);
    pqxx::nontransaction txn(conn);
    txn.exec("CREATE DATABASE " + txn.quote_name(name) + " TEMPLATE template0");
    return absl::OkStatus();
  });
  if (!created.ok()) return created;
  return std::unique_ptr<TestDatabase>(new TestDatabase(admin_url, name, url));
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection conn(admin_url_);
    pqxx::nontransaction txn(conn);
    txn.exec("DROP DATABASE IF EXISTS " + txn.quote_name(name_) + " WITH (FORCE)");
  } catch (const std::exception&) {
    // Best effort: the cluster is thrown away after the run anyway.
  }
}

int64_t LatestSchemaVersion() {
  auto migrations = store::ParseMigrations(store::EmbeddedMigrationFiles());
  return migrations.ok() && !migrations->empty() ? migrations->back().version : 0;
}

absl::Status MigratedDatabaseTest::SeedRegion(const std::string& name, double latitude,
                                              double longitude) {
  return pool_->Run("seeding a region", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    txn.exec_params(
        "INSERT INTO regions (name, latitude, longitude, updated_at) VALUES ($1, $2, $3, now())",
        name, latitude, longitude);
    txn.commit();
    return absl::OkStatus();
  });
}

absl::Status MigratedDatabaseTest::SeedLocation(const std::string& name, const std::string& region,
                                                double latitude, double longitude) {
  return pool_->Run("seeding a location", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    txn.exec_params(
        "INSERT INTO locations (name, region, latitude, longitude, agent_endpoint, "
        "on_demand_price_per_vcpu_hour, on_demand_price_per_gib_hour, capacity_millicores, "
        "capacity_memory_mib, updated_at) VALUES ($1, $2, $3, $4, '127.0.0.1:1', 0.04, 0.005, "
        "4000, 4096, now())",
        name, region, latitude, longitude);
    txn.commit();
    return absl::OkStatus();
  });
}

absl::Status MigratedDatabaseTest::SeedFrankfurtAndVirginia() {
  RETURN_IF_ERROR(SeedRegion("eu", 50, 8));
  RETURN_IF_ERROR(SeedRegion("us", 39, -77));
  RETURN_IF_ERROR(SeedLocation("fra-1", "eu", 50.1, 8.7));
  return SeedLocation("iad-1", "us", 39.0, -77.5);
}

absl::Status MigratedDatabaseTest::SeedResource(const std::string& id) {
  return pool_->Run("seeding a resource", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    txn.exec_params("INSERT INTO resources (id, name, created_at) VALUES ($1::uuid, 'r', now())",
                    id);
    txn.commit();
    return absl::OkStatus();
  });
}

absl::Status MigratedDatabaseTest::ExpireWriteLease(const std::string& instance_id) {
  return pool_->Run("expiring a write lease", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    const pqxx::result r = txn.exec_params(
        "UPDATE instances SET lease_expires_at = clock_timestamp() - interval '1 millisecond' "
        "WHERE id = $1::uuid",
        instance_id);
    txn.commit();
    if (r.affected_rows() != 1) return absl::NotFoundError("no such instance: " + instance_id);
    return absl::OkStatus();
  });
}

void MigratedDatabaseTest::SetUp() {
  DatabaseTest::SetUp();
  if (HasFatalFailure()) return;
  pqxx::connection conn(db_->url());
  auto parsed = store::ParseMigrations(store::EmbeddedMigrationFiles());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto applied = store::ApplyMigrations(conn, *parsed);
  ASSERT_TRUE(applied.ok()) << applied.status();
  store::ConnectionPoolOptions options;
  options.url = db_->url();
  options.max_connections = 4;
  pool_ = std::make_unique<store::ConnectionPool>(options, nullptr);
}

}  // namespace shadowplane::testing
