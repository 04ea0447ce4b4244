// Starts real PostgreSQL clusters of its own (label e2e): as root, as the unprivileged system user.
#include "store/embedded_postgres.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "support/child_process.h"

namespace shadowplane::store {
namespace {

namespace fs = std::filesystem;

class EmbeddedPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("sp-embedded");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  EmbeddedPostgresOptions Options() {
    EmbeddedPostgresOptions o;
    o.data_dir = dir_ + "/data";
    o.settings = {"fsync=off"};
    return o;
  }
  static std::string Query(const std::string& url, const std::string& sql) {
    pqxx::connection conn(url);
    pqxx::work txn(conn);
    auto r = txn.exec(sql);
    txn.commit();
    return r.empty() ? "" : r[0][0].c_str();
  }
  std::string dir_;
};

TEST_F(EmbeddedPostgresTest, CreatesStartsStopsAndReuses) {
  {
    auto pg = EmbeddedPostgres::Start(Options());
    ASSERT_TRUE(pg.ok()) << pg.status();
    EXPECT_FALSE((*pg)->adopted());
    EXPECT_EQ(Query((*pg)->url(), "SELECT current_database()"), "shadowplane");
    Query((*pg)->url(), "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)");
    // Unix socket only.
    EXPECT_EQ(Query((*pg)->url(), "SHOW listen_addresses"), "");
    if (geteuid() == 0) {
      struct stat st;
      ASSERT_EQ(stat((*pg)->cluster_dir().c_str(), &st), 0);
      EXPECT_NE(st.st_uid, 0u) << "PostgreSQL must not run as root";
      EXPECT_EQ(st.st_mode & 0777, 0700u);
    }
    ASSERT_TRUE((*pg)->Stop().ok());
    EXPECT_FALSE(fs::exists((*pg)->cluster_dir() + "/postmaster.pid"));
  }
  auto again = EmbeddedPostgres::Start(Options());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(Query((*again)->url(), "SELECT x FROM kept"), "42");
}

TEST_F(EmbeddedPostgresTest, HandlesAStalePidFile) {
  std::string cluster;
  {
    auto pg = EmbeddedPostgres::Start(Options());
    ASSERT_TRUE(pg.ok()) << pg.status();
    cluster = (*pg)->cluster_dir();
  }
  // A crash leaves postmaster.pid behind, and by now its pid belongs to another live process
  // (here: this test), which PostgreSQL alone would take for a running server.
  {
    std::ofstream pid_file(cluster + "/postmaster.pid");
    pid_file << getpid() << "\n" << cluster << "\n";
  }
  auto pg = EmbeddedPostgres::Start(Options());
  ASSERT_TRUE(pg.ok()) << pg.status();
  EXPECT_FALSE((*pg)->adopted());
  EXPECT_EQ(Query((*pg)->url(), "SELECT 1"), "1");
}

TEST_F(EmbeddedPostgresTest, AdoptsAClusterLeftRunning) {
  std::string cluster, socket_dir;
  {
    auto pg = EmbeddedPostgres::Start(Options());
    ASSERT_TRUE(pg.ok()) << pg.status();
    cluster = (*pg)->cluster_dir();
    socket_dir = (*pg)->socket_dir();
  }
  // What a killed server leaves: the cluster still running on its socket.
  std::vector<std::string> start = {"/usr/lib/postgresql/15/bin/pg_ctl",
                                    "start",
                                    "-w",
                                    "-D",
                                    cluster,
                                    "-l",
                                    dir_ + "/data/log/postgresql.log",
                                    "-o",
                                    "-c listen_addresses='' -k " + socket_dir + " -p 5432"};
  if (geteuid() == 0) {
    start.insert(start.begin(), {"/usr/bin/setpriv", "--reuid", "shadowplane", "--regid",
                                 "shadowplane", "--init-groups", "--"});
  }
  testing::RunResult started = testing::RunToCompletion(start);
  ASSERT_EQ(started.exit_code, 0) << started.output;

  auto pg = EmbeddedPostgres::Start(Options());
  ASSERT_TRUE(pg.ok()) << pg.status();
  EXPECT_TRUE((*pg)->adopted());
  EXPECT_EQ(Query((*pg)->url(), "SELECT 1"), "1");
  ASSERT_TRUE((*pg)->Stop().ok());
  EXPECT_FALSE(fs::exists(cluster + "/postmaster.pid"));
}

// Its directories are changed through descriptors, never through a path: a link planted where one
// goes (the socket directory may be under /tmp, by a predictable name) is refused, and what it
// points to keeps its owner and mode.
TEST_F(EmbeddedPostgresTest, ALinkPlantedWhereADirectoryGoesIsRefusedAndItsTargetUntouched) {
  const std::string victim = dir_ + "/victim";
  fs::create_directories(victim);
  ASSERT_EQ(chmod(victim.c_str(), 0755), 0);
  EmbeddedPostgresOptions o = Options();
  fs::create_directories(o.data_dir);
  fs::create_directory_symlink(victim, o.data_dir + "/run");
  auto pg = EmbeddedPostgres::Start(o);
  ASSERT_EQ(pg.status().code(), absl::StatusCode::kFailedPrecondition) << pg.status();
  EXPECT_NE(pg.status().message().find("symbolic link"), std::string::npos) << pg.status();
  struct stat st;
  ASSERT_EQ(stat(victim.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u) << "the link's target was not changed";
  EXPECT_EQ(st.st_uid, geteuid());
}

// A data directory too deep for a unix socket path gets its socket directory under /tmp by a
// random name, recorded for the next start: the name it once had (the data directory's hash) can
// be taken by anyone first, which stopped the start.
TEST_F(EmbeddedPostgresTest, ADeepDataDirectoryGetsAnUnpredictableSocketDirectory) {
  EmbeddedPostgresOptions o = Options();
  o.data_dir = dir_ + "/" + std::string(60, 'd') + "/" + std::string(60, 'e');
  // What another user could plant under the predictable name of before.
  const std::string predictable =
      absl::StrFormat("/tmp/shadowplane-%d-%016x", geteuid(), std::hash<std::string>{}(o.data_dir));
  const std::string victim = dir_ + "/victim";
  fs::create_directories(victim);
  ASSERT_EQ(chmod(victim.c_str(), 0755), 0);
  fs::create_directory_symlink(victim, predictable);
  std::string first_socket;
  {
    auto pg = EmbeddedPostgres::Start(o);
    ASSERT_TRUE(pg.ok()) << pg.status();
    std::ifstream record(o.data_dir + "/run.socket_dir");
    std::getline(record, first_socket);
    EXPECT_TRUE(absl::StartsWith(first_socket, absl::StrCat("/tmp/shadowplane-", geteuid(), "-")))
        << first_socket;
    EXPECT_NE(first_socket, predictable);
    EXPECT_TRUE(fs::exists(first_socket + "/.s.PGSQL.5432"));
    ASSERT_TRUE((*pg)->Stop().ok());
  }
  {
    auto again = EmbeddedPostgres::Start(o);
    ASSERT_TRUE(again.ok()) << again.status();
    std::ifstream record(o.data_dir + "/run.socket_dir");
    std::string second;
    std::getline(record, second);
    EXPECT_EQ(second, first_socket) << "the recorded directory is reused";
    ASSERT_TRUE((*again)->Stop().ok());
  }
  // The recorded directory replaced by a link: a new one is made, the link's target untouched.
  fs::remove_all(first_socket);
  fs::create_directory_symlink(victim, first_socket);
  {
    auto third = EmbeddedPostgres::Start(o);
    ASSERT_TRUE(third.ok()) << third.status();
    std::ifstream record(o.data_dir + "/run.socket_dir");
    std::string replaced;
    std::getline(record, replaced);
    EXPECT_NE(replaced, first_socket);
    ASSERT_TRUE((*third)->Stop().ok());
    fs::remove_all(replaced);
  }
  struct stat st;
  ASSERT_EQ(stat(victim.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  fs::remove(first_socket);
  fs::remove(predictable);
}

TEST_F(EmbeddedPostgresTest, DataDirThatCannotBeCreatedIsExplained) {
  std::ofstream(dir_ + "/a-file") << "x";
  EmbeddedPostgresOptions o = Options();
  o.data_dir = dir_ + "/a-file/data";
  auto pg = EmbeddedPostgres::Start(o);
  ASSERT_EQ(pg.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(pg.status().message().find("cannot be created"), std::string::npos) << pg.status();
  EXPECT_NE(pg.status().message().find(o.data_dir), std::string::npos) << pg.status();
}

TEST_F(EmbeddedPostgresTest, DataDirUnreachableForTheDatabaseUserIsExplained) {
  if (geteuid() != 0) GTEST_SKIP() << "only root hands PostgreSQL to another user";
  // Like /root: mode 0700, owned by root.
  const std::string closed = dir_ + "/closed";
  ASSERT_EQ(mkdir(closed.c_str(), 0700), 0);
  EmbeddedPostgresOptions o = Options();
  o.data_dir = closed + "/data";
  auto pg = EmbeddedPostgres::Start(o);
  ASSERT_EQ(pg.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(pg.status().message().find("not reachable by the database user 'shadowplane'"),
            std::string::npos)
      << pg.status();
  EXPECT_NE(pg.status().message().find(closed + " has mode 0700"), std::string::npos)
      << pg.status();
}

TEST_F(EmbeddedPostgresTest, SomethingElseInTheClusterDirectoryIsRefused) {
  ASSERT_EQ(mkdir((dir_ + "/data").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((dir_ + "/data/postgres").c_str(), 0700), 0);
  if (geteuid() == 0) {
    ASSERT_EQ(chown((dir_ + "/data/postgres").c_str(), getpwnam("shadowplane")->pw_uid, -1), 0);
  }
  std::ofstream(dir_ + "/data/postgres/precious.txt") << "not a cluster";
  auto pg = EmbeddedPostgres::Start(Options());
  ASSERT_EQ(pg.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(pg.status().message().find("not a PostgreSQL cluster"), std::string::npos)
      << pg.status();
  EXPECT_TRUE(fs::exists(dir_ + "/data/postgres/precious.txt"));
}

TEST_F(EmbeddedPostgresTest, LongDataDirGetsAShortSocketDirectory) {
  EmbeddedPostgresOptions o = Options();
  o.data_dir = dir_ + "/" + std::string(90, 'd');
  auto pg = EmbeddedPostgres::Start(o);
  ASSERT_TRUE(pg.ok()) << pg.status();
  EXPECT_LE((*pg)->socket_dir().size() + std::string("/.s.PGSQL.5432").size(), 107u);
  EXPECT_EQ(Query((*pg)->url(), "SELECT 1"), "1");
  const std::string socket_dir = (*pg)->socket_dir();
  pg->reset();
  std::error_code ec;
  fs::remove_all(socket_dir, ec);
}

}  // namespace
}  // namespace shadowplane::store
