#include "store/migration_runner.h"

#include <pqxx/pqxx>
#include <thread>

#include "gtest/gtest.h"
#include "store/embedded_migrations.h"
#include "support/test_database.h"

namespace shadowplane::store {
namespace {

class MigrationRunnerTest : public testing::DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    if (HasFatalFailure()) return;
    conn_ = std::make_unique<pqxx::connection>(db_->url());
  }

  std::vector<Migration> Parse(const std::vector<MigrationFile>& files) {
    auto parsed = ParseMigrations(files);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    return parsed.ok() ? *parsed : std::vector<Migration>{};
  }

  int64_t Count(const std::string& sql) {
    pqxx::work txn(*conn_);
    return txn.exec1(sql)[0].as<int64_t>();
  }

  std::unique_ptr<pqxx::connection> conn_;
};

TEST_F(MigrationRunnerTest, FreshDatabaseGetsTheCoreSchema) {
  auto report = ApplyMigrations(*conn_, Parse(EmbeddedMigrationFiles()));
  ASSERT_TRUE(report.ok()) << report.status();
  std::vector<std::string> all;
  for (const auto& file : EmbeddedMigrationFiles()) all.push_back(file.filename);
  EXPECT_EQ(report->applied, all);
  EXPECT_EQ(report->applied.front(), "0001_core.sql");
  EXPECT_EQ(report->schema_version, testing::LatestSchemaVersion());
  for (const char* table : {"regions", "locations", "resources", "reservations", "instances",
                            "client_access_log", "migrations", "migration_events"}) {
    EXPECT_EQ(
        Count(std::string("SELECT count(*) FROM pg_tables WHERE tablename = '") + table + "'"), 1)
        << table;
  }
  // The access log is partitioned by range of its timestamp.
  EXPECT_EQ(
      Count("SELECT count(*) FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = 'client_access_log' AND p.partstrat = 'r'"),
      1);
}

TEST_F(MigrationRunnerTest, RerunIsANoOp) {
  const auto migrations = Parse(EmbeddedMigrationFiles());
  ASSERT_TRUE(ApplyMigrations(*conn_, migrations).ok());
  auto again = ApplyMigrations(*conn_, migrations);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->applied.empty());
  EXPECT_EQ(again->schema_version, testing::LatestSchemaVersion());
  EXPECT_EQ(Count("SELECT count(*) FROM schema_migrations"),
            static_cast<int64_t>(EmbeddedMigrationFiles().size()));
}

TEST_F(MigrationRunnerTest, ChangedChecksumIsRefused) {
  ASSERT_TRUE(ApplyMigrations(*conn_, Parse({{"0001_a.sql", "CREATE TABLE a (x int);"}})).ok());
  auto changed = ApplyMigrations(*conn_, Parse({{"0001_a.sql", "CREATE TABLE a (x bigint);"}}));
  ASSERT_EQ(changed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(changed.status().message().find("0001_a.sql was changed after it was applied"),
            std::string::npos)
      << changed.status();
}

TEST_F(MigrationRunnerTest, NewerSchemaIsRefused) {
  ASSERT_TRUE(ApplyMigrations(*conn_, Parse({{"0001_a.sql", "CREATE TABLE a (x int);"},
                                             {"0002_b.sql", "CREATE TABLE b (x int);"}}))
                  .ok());
  auto older = ApplyMigrations(*conn_, Parse({{"0001_a.sql", "CREATE TABLE a (x int);"}}));
  ASSERT_EQ(older.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(older.status().message().find("newer"), std::string::npos) << older.status();
}

TEST_F(MigrationRunnerTest, OutOfOrderIsRefused) {
  ASSERT_TRUE(ApplyMigrations(*conn_, Parse({{"0001_a.sql", "CREATE TABLE a (x int);"},
                                             {"0003_c.sql", "CREATE TABLE c (x int);"}}))
                  .ok());
  auto gap = ApplyMigrations(*conn_, Parse({{"0001_a.sql", "CREATE TABLE a (x int);"},
                                            {"0002_b.sql", "CREATE TABLE b (x int);"},
                                            {"0003_c.sql", "CREATE TABLE c (x int);"}}));
  ASSERT_EQ(gap.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(gap.status().message().find("0002_b.sql"), std::string::npos) << gap.status();
}

TEST_F(MigrationRunnerTest, FailingMigrationLeavesNothingBehind) {
  auto failed = ApplyMigrations(
      *conn_, Parse({{"0001_a.sql", "CREATE TABLE a (x int);"},
                     {"0002_bad.sql", "CREATE TABLE b (x int); SELECT no_such_column FROM b;"}}));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("0002_bad.sql"), std::string::npos) << failed.status();
  EXPECT_EQ(Count("SELECT count(*) FROM schema_migrations"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_tables WHERE tablename = 'b'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_tables WHERE tablename = 'a'"), 1);
}

TEST_F(MigrationRunnerTest, ConcurrentStartsApplyEachMigrationOnce) {
  const auto migrations = Parse(EmbeddedMigrationFiles());
  constexpr int kServers = 4;
  std::vector<absl::StatusOr<MigrationReport>> reports(kServers, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kServers; ++i) {
    threads.emplace_back([&, i] {
      pqxx::connection conn(db_->url());
      reports[i] = ApplyMigrations(conn, migrations);
    });
  }
  for (auto& t : threads) t.join();
  int applied = 0;
  for (const auto& report : reports) {
    ASSERT_TRUE(report.ok()) << report.status();
    applied += static_cast<int>(report->applied.size());
    EXPECT_EQ(report->schema_version, testing::LatestSchemaVersion());
  }
  const int64_t files = static_cast<int64_t>(EmbeddedMigrationFiles().size());
  EXPECT_EQ(applied, files) << "each migration applied by exactly one of the servers";
  EXPECT_EQ(Count("SELECT count(*) FROM schema_migrations"), files);
}

TEST(ParseMigrationsTest, RejectsBadNames) {
  for (const char* name : {"1_a.sql", "abcd_a.sql", "0001.sql", "0001_a.txt", "0000_zero.sql"}) {
    auto parsed = ParseMigrations({{name, "SELECT 1;"}});
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_NE(parsed.status().message().find(name), std::string::npos) << parsed.status();
  }
  auto duplicate = ParseMigrations({{"0001_a.sql", ""}, {"0001_b.sql", ""}});
  EXPECT_EQ(duplicate.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseMigrationsTest, SortsByVersion) {
  auto parsed = ParseMigrations({{"0010_j.sql", ""}, {"0002_b.sql", ""}});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ((*parsed)[0].version, 2);
  EXPECT_EQ((*parsed)[0].name, "b");
  EXPECT_EQ((*parsed)[1].version, 10);
}

TEST(ReadMigrationDirTest, MissingDirectoryIsNotFound) {
  EXPECT_EQ(ReadMigrationDir("/nonexistent/migrations").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace shadowplane::store
