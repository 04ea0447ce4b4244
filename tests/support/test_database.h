// A fresh, empty database per test on the cluster that deploy/test.sh started
// (SHADOWPLANE_TEST_DATABASE_URL), dropped afterwards, so tests never see each other's rows.
// Without that variable a test fails loudly: PostgreSQL-backed tests are never skipped.
#ifndef SHADOWPLANE_TESTS_SUPPORT_TEST_DATABASE_H_
#define SHADOWPLANE_TESTS_SUPPORT_TEST_DATABASE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "store/connection_pool.h"

namespace shadowplane::testing {

class TestDatabase {
 public:
  static absl::StatusOr<std::unique_ptr<TestDatabase>> Create();
  ~TestDatabase();

  // libpq URL of the new database.
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  TestDatabase(std::string admin_url, std::string name, std::string url)
      : admin_url_(std::move(admin_url)), name_(std::move(name)), url_(std::move(url)) {}
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

// The highest version among the migrations built into the binaries.
int64_t LatestSchemaVersion();

// A fixture whose tests each get a fresh database in db_.
class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
  }
  std::unique_ptr<TestDatabase> db_;
};

// A fixture whose tests each get a fresh database with the schema applied (db_) and a small
// connection pool on it (pool_).
class MigratedDatabaseTest : public DatabaseTest {
 protected:
  void SetUp() override;

  // Rows that other tables refer to: a region, a location in it (4000 millicores, 4096 MiB), a
  // resource.
  absl::Status SeedRegion(const std::string& name, double latitude, double longitude);
  absl::Status SeedLocation(const std::string& name, const std::string& region, double latitude,
                            double longitude);
  absl::Status SeedResource(const std::string& id);
  // Two regions far apart, a location in each: fra-1 (eu) and iad-1 (us), agents at 127.0.0.1:1
  // (nobody answers there): where in-process tests place a primary and its diverse shadow.
  absl::Status SeedFrankfurtAndVirginia();
  // Ends the instance's recorded write lease now, on the database's clock: what the lease's
  // running out looks like to the control plane, without waiting for it.
  absl::Status ExpireWriteLease(const std::string& instance_id);

  std::unique_ptr<store::ConnectionPool> pool_;
};

}  // namespace shadowplane::testing

#endif  // SHADOWPLANE_TESTS_SUPPORT_TEST_DATABASE_H_
