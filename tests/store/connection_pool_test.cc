#include "store/connection_pool.h"

#include <libpq-fe.h>
#include <prometheus/registry.h>

#include <pqxx/pqxx>

#include "gtest/gtest.h"
#include "support/child_process.h"
#include "support/test_database.h"

namespace shadowplane::store {
namespace {

class ConnectionPoolTest : public testing::DatabaseTest {
 protected:
  ConnectionPoolOptions Options(int size = 2) {
    ConnectionPoolOptions o;
    o.url = db_->url();
    o.max_connections = size;
    o.acquire_timeout = absl::Milliseconds(200);
    return o;
  }
};

// What libpq itself reads from a connection string for `keyword`; "" when absent.
std::string LibpqValue(const std::string& conninfo, const char* keyword) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "?";
    PQfreemem(error);
    return "parse error: " + message;
  }
  std::string value;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string(o->keyword) == keyword && o->val != nullptr) value = o->val;
  }
  PQconninfoFree(options);
  return value;
}

// A password from --database_password_file reaches libpq exactly, whatever it holds, in both
// syntaxes of a connection string; one the URL already carries is left alone.
TEST(PoolConnectionStringTest, AddsThePasswordAsLibpqReadsIt) {
  const std::string password = "p@ss w'rd\\&?=%#/:x";
  for (const std::string& url :
       {std::string("postgresql://sp@db.example:5432/shadowplane?sslmode=require"),
        std::string("postgres://sp@db.example/shadowplane"),
        std::string("host=db.example user=sp dbname=shadowplane")}) {
    ConnectionPoolOptions options;
    options.url = url;
    options.password = password;
    const std::string conninfo = PoolConnectionString(options);
    EXPECT_EQ(LibpqValue(conninfo, "password"), password) << conninfo;
    EXPECT_EQ(LibpqValue(conninfo, "user"), "sp") << conninfo;
    EXPECT_EQ(LibpqValue(conninfo, "application_name"), "shadowplane") << conninfo;
  }
  ConnectionPoolOptions none;
  none.url = "host=db.example";
  EXPECT_EQ(LibpqValue(PoolConnectionString(none), "password"), "");
  ConnectionPoolOptions both;
  both.url = "postgresql://db.example/x?password=from-url";
  both.password = "from-file";
  EXPECT_EQ(LibpqValue(PoolConnectionString(both), "password"), "from-url");
}

TEST_F(ConnectionPoolTest, ReusesConnections) {
  ConnectionPool pool(Options(), nullptr);
  int backend = 0;
  {
    auto conn = pool.Acquire();
    ASSERT_TRUE(conn.ok()) << conn.status();
    backend = (*conn)->backendpid();
  }
  auto again = pool.Acquire();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->backendpid(), backend);
  EXPECT_TRUE(pool.Ping().ok());
}

TEST_F(ConnectionPoolTest, BusyPoolIsResourceExhausted) {
  ConnectionPool pool(Options(1), nullptr);
  auto held = pool.Acquire();
  ASSERT_TRUE(held.ok());
  auto second = pool.Acquire();
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted) << second.status();
}

TEST_F(ConnectionPoolTest, UnreachableDatabaseIsUnavailableAndCounted) {
  prometheus::Registry registry;
  ConnectionPoolOptions o = Options();
  o.url = "postgresql://postgres@127.0.0.1:" + std::to_string(testing::FreePort()) + "/x";
  ConnectionPool pool(o, &registry);
  auto conn = pool.Acquire();
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable) << conn.status();
  bool counted = false;
  for (const auto& family : registry.Collect()) {
    if (family.name == "shadowplane_db_pool_connect_errors_total") {
      counted = family.metric.at(0).counter.value == 1;
    }
  }
  EXPECT_TRUE(counted);
}

TEST_F(ConnectionPoolTest, DatabaseErrorsBecomeStatuses) {
  ConnectionPool pool(Options(), nullptr);
  ASSERT_TRUE(pool.Run("setup",
                       [](pqxx::connection& c) -> absl::Status {
                         pqxx::work txn(c);
                         txn.exec("CREATE TABLE t (id int PRIMARY KEY, v int CHECK (v > 0))");
                         txn.exec("INSERT INTO t VALUES (1, 1)");
                         txn.commit();
                         return absl::OkStatus();
                       })
                  .ok());
  auto exec = [&](const std::string& sql) {
    return pool.Run("running " + sql, [&](pqxx::connection& c) -> absl::Status {
      pqxx::work txn(c);
      txn.exec(sql);
      txn.commit();
      return absl::OkStatus();
    });
  };
  EXPECT_EQ(exec("INSERT INTO t VALUES (1, 2)").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(exec("INSERT INTO t VALUES (2, -1)").code(), absl::StatusCode::kInvalidArgument);
  absl::Status syntax = exec("SELEC 1");
  EXPECT_EQ(syntax.code(), absl::StatusCode::kInternal);
  EXPECT_NE(syntax.message().find("SQLSTATE 42601"), std::string::npos) << syntax;
  EXPECT_NE(syntax.message().find("running SELEC 1"), std::string::npos) << syntax;
}

TEST_F(ConnectionPoolTest, BrokenConnectionIsDroppedAndReplaced) {
  ConnectionPool pool(Options(1), nullptr);
  int victim = 0;
  {
    auto conn = pool.Acquire();
    ASSERT_TRUE(conn.ok());
    victim = (*conn)->backendpid();
  }
  {
    pqxx::connection admin(db_->url());
    pqxx::nontransaction txn(admin);
    txn.exec("SELECT pg_terminate_backend(" + std::to_string(victim) + ")");
  }
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(pool.Ping().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(pool.Ping().ok());  // a new connection
  auto conn = pool.Acquire();
  ASSERT_TRUE(conn.ok());
  EXPECT_NE((*conn)->backendpid(), victim);
}

}  // namespace
}  // namespace shadowplane::store
