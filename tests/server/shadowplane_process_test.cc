// Runs the real shadowplane binary (label e2e): health follows the database, reflection, metrics,
// graceful shutdown, start-up errors, configuration precedence, scaled clocks across processes.
#include <google/protobuf/util/time_util.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "shadowplane/v1/locations.grpc.pb.h"
#include "store/embedded_postgres.h"
#include "support/child_process.h"
#include "support/local_ca.h"
#include "support/server_client.h"
#include "support/test_database.h"

namespace shadowplane {
namespace {

using grpc::health::v1::HealthCheckResponse;
using testing::ChildProcess;
using testing::FreePort;
using testing::RunToCompletion;
using testing::ServerClient;

namespace fs = std::filesystem;

struct Server {
  std::unique_ptr<ChildProcess> process;
  int port = 0;
  int metrics_port = 0;
};

// Starts shadowplane on free ports and waits until it has bound them.
Server StartServer(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
  Server server;
  server.port = FreePort();
  server.metrics_port = FreePort();
  args.insert(args.begin(), {SHADOWPLANE_BIN, absl::StrCat("--listen=127.0.0.1:", server.port),
                             absl::StrCat("--metrics_listen=127.0.0.1:", server.metrics_port),
                             "--db_check_interval=200ms", "--shutdown_grace=5s"});
  if (!testing::ChoosesTransport(args)) args.push_back("--insecure");
  auto process = ChildProcess::Start(args, env);
  EXPECT_TRUE(process.ok()) << process.status();
  if (!process.ok()) return server;
  server.process = *std::move(process);
  EXPECT_TRUE(server.process->WaitForOutput("shadowplane started", absl::Seconds(60)))
      << server.process->Output();
  return server;
}

using ShadowplaneProcessTest = testing::DatabaseTest;

TEST_F(ShadowplaneProcessTest, ServesHealthAndServerInfoOnceMigrated) {
  Server server = StartServer({"--database_url=" + db_->url()});
  ServerClient client(server.port);
  ASSERT_TRUE(client.WaitForHealth(HealthCheckResponse::SERVING, absl::Seconds(30)))
      << server.process->Output();
  auto info = client.Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->database_ready());
  EXPECT_EQ(info->schema_version(), testing::LatestSchemaVersion());
  EXPECT_EQ(info->database_mode(), "external");
  EXPECT_EQ(info->time_scale(), 1.0);
  EXPECT_FALSE(info->version().empty());

  // Unknown services are NOT_FOUND, as the health protocol says.
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("no.such.Service");
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_EQ(client.health().Check(&context, request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ShadowplaneProcessTest, HealthFollowsTheDatabase) {
  // A cluster of this test's own, so that it can be stopped and started.
  const std::string dir = testing::MakeTempDir("sp-health");
  store::EmbeddedPostgresOptions pg_options;
  pg_options.data_dir = dir + "/data";
  pg_options.settings = {"fsync=off"};
  std::string url;
  {
    auto pg = store::EmbeddedPostgres::Start(pg_options);
    ASSERT_TRUE(pg.ok()) << pg.status();
    url = (*pg)->url();
  }  // stopped: the database is unreachable when the server starts

  Server server = StartServer({"--database_url=" + url});
  ServerClient client(server.port);
  // Watch streams every change from the start.
  grpc::ClientContext watch_context;
  grpc::health::v1::HealthCheckRequest watch_request;
  auto watch = client.health().Watch(&watch_context, watch_request);
  grpc::health::v1::HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::NOT_SERVING);

  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(*client.Health(), HealthCheckResponse::NOT_SERVING);
  EXPECT_TRUE(server.process->WaitForOutput("database not ready, retrying", absl::Seconds(5)));

  {
    auto pg = store::EmbeddedPostgres::Start(pg_options);
    ASSERT_TRUE(pg.ok()) << pg.status();
    ASSERT_TRUE(client.WaitForHealth(HealthCheckResponse::SERVING, absl::Seconds(30)))
        << server.process->Output();
    ASSERT_TRUE(watch->Read(&update));
    EXPECT_EQ(update.status(), HealthCheckResponse::SERVING);
    ASSERT_TRUE((*pg)->Stop().ok());
    ASSERT_TRUE(client.WaitForHealth(HealthCheckResponse::NOT_SERVING, absl::Seconds(30)))
        << server.process->Output();
    ASSERT_TRUE(watch->Read(&update));
    EXPECT_EQ(update.status(), HealthCheckResponse::NOT_SERVING);
    EXPECT_TRUE(server.process->WaitForOutput("database lost", absl::Seconds(5)));
  }
  {
    auto pg = store::EmbeddedPostgres::Start(pg_options);
    ASSERT_TRUE(pg.ok()) << pg.status();
    EXPECT_TRUE(client.WaitForHealth(HealthCheckResponse::SERVING, absl::Seconds(30)))
        << server.process->Output();
    EXPECT_TRUE(server.process->running()) << "no crash while the database came and went";
    server.process->Signal(SIGTERM);
    EXPECT_EQ(server.process->WaitForExit(absl::Seconds(30)), 0) << server.process->Output();
  }
  watch_context.TryCancel();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST_F(ShadowplaneProcessTest, ReflectionListsServicesAndDescribesHealth) {
  Server server = StartServer({"--database_url=" + db_->url()});
  const std::string address = absl::StrCat("127.0.0.1:", server.port);
  auto list = RunToCompletion({REFLECTION_PROBE_BIN, address, "list"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  for (const char* service : {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection",
                              "shadowplane.v1.ServerService", "shadowplane.v1.ForecastService",
                              "shadowplane.v1.EventService", "shadowplane.v1.PlannerService"}) {
    EXPECT_TRUE(absl::StrContains(list.output, service)) << list.output;
  }
  auto health =
      RunToCompletion({REFLECTION_PROBE_BIN, address, "describe", "grpc.health.v1.Health"});
  ASSERT_EQ(health.exit_code, 0) << health.output;
  EXPECT_TRUE(absl::StrContains(health.output, "file grpc/health/v1/health.proto"))
      << health.output;
  EXPECT_TRUE(absl::StrContains(health.output, "method grpc.health.v1.Health.Check"));
  EXPECT_TRUE(absl::StrContains(health.output, "method grpc.health.v1.Health.Watch"));
  auto ours =
      RunToCompletion({REFLECTION_PROBE_BIN, address, "describe", "shadowplane.v1.ServerService"});
  EXPECT_TRUE(absl::StrContains(ours.output, "method shadowplane.v1.ServerService.GetServerInfo"))
      << ours.output;
}

TEST_F(ShadowplaneProcessTest, ReflectionCanBeTurnedOff) {
  Server server = StartServer({"--database_url=" + db_->url(), "--reflection=false"});
  auto list =
      RunToCompletion({REFLECTION_PROBE_BIN, absl::StrCat("127.0.0.1:", server.port), "list"});
  EXPECT_NE(list.exit_code, 0) << list.output;
  EXPECT_FALSE(absl::StrContains(list.output, "shadowplane.v1.ServerService")) << list.output;
}

TEST_F(ShadowplaneProcessTest, MetricsPassPromtoolAndCountRpcs) {
  Server server = StartServer({"--database_url=" + db_->url()});
  ServerClient client(server.port);
  ASSERT_TRUE(client.WaitForHealth(HealthCheckResponse::SERVING, absl::Seconds(30)));
  ASSERT_TRUE(client.Info().ok());
  const std::string url = absl::StrCat("http://127.0.0.1:", server.metrics_port, "/metrics");
  auto metrics = RunToCompletion({"/usr/bin/curl", "-sf", url});
  ASSERT_EQ(metrics.exit_code, 0) << metrics.output;
  for (const char* expected :
       {"grpc_server_started_total{grpc_method=\"GetServerInfo\",grpc_service=\"shadowplane.v1."
        "ServerService\",grpc_type=\"unary\"} 1",
        "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"GetServerInfo\"",
        "grpc_server_handling_seconds_bucket{grpc_method=\"Check\"", "shadowplane_build_info{",
        "shadowplane_db_pool_connections{state=\"idle\"}", "shadowplane_database_up 1",
        "shadowplane_schema_version "}) {
    EXPECT_TRUE(absl::StrContains(metrics.output, expected)) << expected << "\n" << metrics.output;
  }
  EXPECT_TRUE(absl::StrContains(
      metrics.output, absl::StrCat("shadowplane_schema_version ", testing::LatestSchemaVersion())));
  auto check = RunToCompletion(
      {"/bin/sh", "-c",
       absl::StrCat("/usr/bin/curl -sf ", url, " | /usr/bin/promtool check metrics")});
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

TEST_F(ShadowplaneProcessTest, SigtermEndsWatchStreamsAndExitsCleanly) {
  Server server = StartServer({"--database_url=" + db_->url()});
  ServerClient client(server.port);
  ASSERT_TRUE(client.WaitForHealth(HealthCheckResponse::SERVING, absl::Seconds(30)));
  grpc::ClientContext context;
  auto watch = client.health().Watch(&context, {});
  grpc::health::v1::HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::SERVING);

  const absl::Time start = absl::Now();
  server.process->Signal(SIGTERM);
  ASSERT_TRUE(watch->Read(&update));  // told before the stream ends
  EXPECT_EQ(update.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(watch->Read(&update));
  EXPECT_TRUE(watch->Finish().ok());
  // The stream is finished by the server at once, not cancelled when the grace period runs out.
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  // Idle client connections may hold the server until the grace period (5 s here) ends: a client
  // channel with no call in flight notices the server's GOAWAY only on its next poll.
  EXPECT_EQ(server.process->WaitForExit(absl::Seconds(20)), 0) << server.process->Output();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10)) << server.process->Output();
  EXPECT_TRUE(absl::StrContains(server.process->Output(), "shadowplane stopped"));
}

TEST_F(ShadowplaneProcessTest, EmbeddedDatabaseByDefault) {
  const std::string dir = testing::MakeTempDir("sp-default");
  for (int run = 0; run < 2; ++run) {  // the second start reuses the cluster
    Server server = StartServer({"--data_dir=" + dir + "/data"});
    ServerClient client(server.port);
    ASSERT_TRUE(client.WaitForHealth(HealthCheckResponse::SERVING, absl::Seconds(60)))
        << server.process->Output();
    auto info = client.Info();
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->database_mode(), "embedded");
    EXPECT_EQ(info->schema_version(), testing::LatestSchemaVersion());
    server.process->Signal(SIGINT);
    ASSERT_EQ(server.process->WaitForExit(absl::Seconds(60)), 0) << server.process->Output();
    // It stopped the cluster it started.
    EXPECT_FALSE(fs::exists(dir + "/data/postgres/postmaster.pid"));
    EXPECT_TRUE(absl::StrContains(server.process->Output(), "embedded PostgreSQL stopped"));
    EXPECT_EQ(absl::StrContains(server.process->Output(), "creating embedded PostgreSQL cluster"),
              run == 0);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST_F(ShadowplaneProcessTest, UnusableDataDirIsExplained) {
  const std::string dir = testing::MakeTempDir("sp-baddir");
  std::ofstream(dir + "/file") << "x";
  auto result =
      RunToCompletion({SHADOWPLANE_BIN, "--listen=127.0.0.1:" + std::to_string(FreePort()),
                       "--metrics_listen=127.0.0.1:" + std::to_string(FreePort()),
                       "--data_dir=" + dir + "/file/data", "--insecure"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(
      absl::StrContains(result.output, "--data_dir " + dir + "/file/data cannot be created"))
      << result.output;
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST_F(ShadowplaneProcessTest, PortInUseIsExplained) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string taken = absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));

  auto grpc_taken = RunToCompletion({SHADOWPLANE_BIN, "--listen=" + taken,
                                     "--metrics_listen=127.0.0.1:" + std::to_string(FreePort()),
                                     "--database_url=" + db_->url(), "--insecure"});
  EXPECT_EQ(grpc_taken.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(grpc_taken.output, "cannot listen for gRPC on --listen=" + taken))
      << grpc_taken.output;
  EXPECT_TRUE(absl::StrContains(grpc_taken.output, "in use")) << grpc_taken.output;

  auto metrics_taken =
      RunToCompletion({SHADOWPLANE_BIN, "--listen=127.0.0.1:" + std::to_string(FreePort()),
                       "--metrics_listen=" + taken, "--database_url=" + db_->url(), "--insecure"});
  EXPECT_EQ(metrics_taken.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(metrics_taken.output, "--metrics_listen=" + taken))
      << metrics_taken.output;
  close(fd);
}

TEST_F(ShadowplaneProcessTest, BadConfigurationNamesTheCulprit) {
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string expected;
  };
  const std::string yaml = testing::MakeTempDir("sp-config") + "/bad.yaml";
  std::ofstream(yaml) << "db_pool_size: lots\n";
  const std::vector<Case> cases = {
      {{"--lisen=127.0.0.1:1"}, {}, "unknown flag --lisen"},
      {{"--db_pool_size=lots"}, {}, "invalid value 'lots' for --db_pool_size (from command line)"},
      {{}, {"SHADOWPLANE_TIME_SCALE=fast"}, "SHADOWPLANE_TIME_SCALE"},
      {{"--config=" + yaml}, {}, yaml},
      {{"--config=/nonexistent.yaml"}, {}, "/nonexistent.yaml cannot be read"},
      {{"--log_level=loud"}, {}, "--log_level"},
      {{"--time_scale=60"}, {}, "time_epoch is required"},
      // Transport: TLS unless --insecure (every case below starts from --insecure).
      {{"--insecure=false"},
       {},
       "calls are served with TLS: give --tls_cert, --tls_key and --tls_ca"},
      {{"--listen=0.0.0.0:1"}, {}, "--insecure is for loopback only"},
      {{"--listen=[::]:1"}, {}, "--insecure is for loopback only"},
      {{"--tls_cert=/a.pem"}, {}, "--insecure serves plaintext"},
      {{"--insecure=false", "--tls_cert=/a.pem", "--tls_key=/a.key"}, {}, "--tls_ca is missing"},
      {{"--insecure=false", "--tls_cert=/a", "--tls_key=/b", "--tls_ca=/c"},
       {},
       "tokens_file is required with TLS"},
      {{"--insecure=false", "--tls_cert=/a", "--tls_key=/b", "--tls_ca=/c", "--tokens_file=/t",
        "--tls_reload_interval=0s"},
       {},
       "--tls_reload_interval must be at least 1s"},
      {{"--db_pool_size=0"}, {}, "db_pool_size must be at least 1"},
      {{"--ingest_queue_records=10"},
       {},
       "--ingest_queue_records must be at least --max_batch_events"},
      {{"--access_log_retention=1h"}, {}, "--access_log_retention must be at least 24h"},
      {{"--geoip_db=/nonexistent.mmdb"}, {}, "--geoip_db: "},
      {{"--max_horizon_hours=0"}, {}, "--max_horizon_hours must be within [1, 840]"},
      {{"--forecast_history=2h"}, {}, "--forecast_history must be at least 24h"},
      {{"--forecast_refit_hours=0"}, {}, "--forecast_refit_hours must be at least 1"},
      {{"--sample_paths=0"}, {}, "--sample_paths must be within [1, 10000]"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {SHADOWPLANE_BIN,
                                     "--print_config=false",
                                     "--listen=127.0.0.1:" + std::to_string(FreePort()),
                                     "--metrics_listen=127.0.0.1:" + std::to_string(FreePort()),
                                     "--database_url=" + db_->url(),
                                     "--insecure"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto result = RunToCompletion(argv, c.env);
    EXPECT_EQ(result.exit_code, 2) << c.expected << "\n" << result.output;
    EXPECT_TRUE(absl::StrContains(result.output, c.expected)) << result.output;
  }
}

TEST_F(ShadowplaneProcessTest, ConfigurationPrecedenceAndHelp) {
  const std::string yaml = testing::MakeTempDir("sp-config") + "/shadowplane.yaml";
  std::ofstream(yaml) << "db_pool_size: 3\nlisten: 127.0.0.1:7001\nmetrics_listen: 127.0.0.1:7002\n"
                      << "time_scale: 60\n";
  auto result = RunToCompletion({SHADOWPLANE_BIN, "--print_config", "--listen=127.0.0.1:7003"},
                                {"SHADOWPLANE_CONFIG=" + yaml, "SHADOWPLANE_LISTEN=127.0.0.1:7004",
                                 "SHADOWPLANE_DB_POOL_SIZE=5"});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, "listen = 127.0.0.1:7003  (command line)"))
      << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, "db_pool_size = 5  (environment)"));
  EXPECT_TRUE(absl::StrContains(result.output, "metrics_listen = 127.0.0.1:7002  (file)"));
  EXPECT_TRUE(absl::StrContains(result.output, "time_scale = 60  (file)"));
  EXPECT_TRUE(absl::StrContains(result.output, "shutdown_grace = 10s  (default)"));

  // A password in the database URL never shows, and is refused where other users could read it:
  // on the command line, in a config file open to others. The environment is fine.
  const std::string with_password =
      "postgresql://sp:hunter2@db.example:5432/shadowplane?sslmode=require";
  auto on_command_line =
      RunToCompletion({SHADOWPLANE_BIN, "--print_config", "--database_url=" + with_password});
  EXPECT_EQ(on_command_line.exit_code, 2) << on_command_line.output;
  EXPECT_TRUE(absl::StrContains(on_command_line.output,
                                "--database_url holds a password on the command line"))
      << on_command_line.output;
  EXPECT_TRUE(absl::StrContains(on_command_line.output, "SHADOWPLANE_DATABASE_URL"));
  EXPECT_FALSE(absl::StrContains(on_command_line.output, "hunter2"));
  const std::string secret_yaml = testing::MakeTempDir("sp-config") + "/secret.yaml";
  std::ofstream(secret_yaml) << "database_url: " << with_password << "\n";
  chmod(secret_yaml.c_str(), 0644);
  auto open_file = RunToCompletion({SHADOWPLANE_BIN, "--print_config", "--config=" + secret_yaml});
  EXPECT_EQ(open_file.exit_code, 2) << open_file.output;
  EXPECT_TRUE(absl::StrContains(open_file.output, "chmod o-rw " + secret_yaml)) << open_file.output;
  EXPECT_FALSE(absl::StrContains(open_file.output, "hunter2"));
  chmod(secret_yaml.c_str(), 0600);
  auto private_file =
      RunToCompletion({SHADOWPLANE_BIN, "--print_config", "--config=" + secret_yaml});
  EXPECT_EQ(private_file.exit_code, 0) << private_file.output;
  EXPECT_FALSE(absl::StrContains(private_file.output, "hunter2"));
  auto secret = RunToCompletion({SHADOWPLANE_BIN, "--print_config"},
                                {"SHADOWPLANE_DATABASE_URL=" + with_password});
  ASSERT_EQ(secret.exit_code, 0) << secret.output;
  EXPECT_FALSE(absl::StrContains(secret.output, "hunter2")) << secret.output;
  EXPECT_TRUE(absl::StrContains(
      secret.output,
      "database_url = postgresql://sp:****@db.example:5432/shadowplane?sslmode=require"))
      << secret.output;

  auto help = RunToCompletion({SHADOWPLANE_BIN, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* text : {"--listen=127.0.0.1:50051", "SHADOWPLANE_DATABASE_URL", "--data_dir",
                           "--time_epoch", "--metrics_listen"}) {
    EXPECT_TRUE(absl::StrContains(help.output, text)) << text;
  }
}

// The secrets a server is given (a caller's token, the database password, the TSIG key) and one it
// is sent (a wrong token) appear nowhere: not in its logs, not in --print_config, not in its
// metrics, not in the errors callers get.
TEST_F(ShadowplaneProcessTest, SecretsNeverShowInLogsConfigMetricsOrErrors) {
  const std::string dir = testing::MakeTempDir("sp-secrets");
  const std::string token = "token-3f1c9a7e5b2d4c6f8a0e1b3d5f7a9c1e";
  const std::string wrong = "wrong-7a5c3e1f9b8d6c4a2e0f1d3b5a7c9e1f";
  const std::string password = "password-9c8b7a6f5e4d3c2b1a0f";
  const std::string tsig = "c2hhZG93cGxhbmUtc2VjcmV0LXRzaWcta2V5LTEyMzQ=";
  auto write_private = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    chmod((dir + "/" + name).c_str(), 0600);
    return dir + "/" + name;
  };
  const std::vector<std::string> flags = {
      "--database_url=" + db_->url(),
      "--database_password_file=" + write_private("db.password", password + "\n"),
      "--tokens_file=" +
          write_private("tokens.yaml", absl::StrCat("tokens:\n  - {name: ops, role: admin, "
                                                    "sha256: ",
                                                    testing::TokenSha256(token), "}\n")),
      "--traffic_provider=rfc2136",
      "--dns_server=127.0.0.1:1",
      "--dns_zone=svc.test.",
      "--dns_tsig_key_name=k",
      "--dns_tsig_secret_file=" + write_private("tsig.secret", tsig + "\n"),
      "--log_level=debug"};
  Server server = StartServer(flags);
  ASSERT_NE(server.process, nullptr);
  ServerClient client(server.port);
  ASSERT_TRUE(client.WaitForHealth(HealthCheckResponse::SERVING, absl::Seconds(30)))
      << server.process->Output();
  std::string answers;
  for (const std::string& t : {token, wrong}) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + t);
    shadowplane::v1::ListLocationsRequest request;
    shadowplane::v1::ListLocationsResponse response;
    const grpc::Status s = shadowplane::v1::LocationService::NewStub(client.channel())
                               ->ListLocations(&context, request, &response);
    EXPECT_EQ(s.error_code(), t == token ? grpc::StatusCode::OK : grpc::StatusCode::UNAUTHENTICATED)
        << s.error_message();
    absl::StrAppend(&answers, s.error_message(), "\n");
  }
  auto metrics = RunToCompletion(
      {"/usr/bin/curl", "-sf", absl::StrCat("http://127.0.0.1:", server.metrics_port, "/metrics")});
  ASSERT_EQ(metrics.exit_code, 0);
  std::vector<std::string> print_argv = {SHADOWPLANE_BIN, "--print_config", "--insecure"};
  print_argv.insert(print_argv.end(), flags.begin(), flags.end());
  auto printed = RunToCompletion(print_argv);
  ASSERT_EQ(printed.exit_code, 0) << printed.output;
  const std::string logs = server.process->Output();
  // What is searched is there: the refused call was logged, the files were named.
  ASSERT_TRUE(absl::StrContains(logs, "call refused")) << logs;
  ASSERT_TRUE(absl::StrContains(printed.output, "database_password_file = " + dir));
  ASSERT_TRUE(absl::StrContains(metrics.output, "shadowplane_access_denied_total"));
  for (const std::string& secret : {token, wrong, password, tsig}) {
    EXPECT_FALSE(absl::StrContains(logs, secret)) << secret << " in the logs:\n" << logs;
    EXPECT_FALSE(absl::StrContains(printed.output, secret)) << secret << ":\n" << printed.output;
    EXPECT_FALSE(absl::StrContains(metrics.output, secret)) << secret;
    EXPECT_FALSE(absl::StrContains(answers, secret)) << secret << ": " << answers;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST_F(ShadowplaneProcessTest, ScaledClocksOfTwoProcessesAgree) {
  // An epoch a little in the past, an hour of domain time per real second.
  const std::string epoch =
      absl::FormatTime(absl::RFC3339_sec, absl::Now() - absl::Seconds(5), absl::UTCTimeZone());
  const std::vector<std::string> args = {"--database_url=" + db_->url(), "--time_scale=3600",
                                         "--time_epoch=" + epoch};
  Server a = StartServer(args);
  Server b = StartServer(args);
  ServerClient client_a(a.port);
  ServerClient client_b(b.port);
  using google::protobuf::util::TimeUtil;
  for (int i = 0; i < 5; ++i) {
    auto a1 = client_a.Info();
    auto b1 = client_b.Info();
    auto a2 = client_a.Info();
    ASSERT_TRUE(a1.ok() && b1.ok() && a2.ok());
    const int64_t ta1 = TimeUtil::TimestampToNanoseconds(a1->domain_time());
    const int64_t tb = TimeUtil::TimestampToNanoseconds(b1->domain_time());
    const int64_t ta2 = TimeUtil::TimestampToNanoseconds(a2->domain_time());
    // B's reading was taken between A's two: if the clocks agree, so are the domain times.
    EXPECT_LE(ta1, tb);
    EXPECT_LE(tb, ta2);
    EXPECT_EQ(a1->time_scale(), 3600);
    // And domain time runs ahead of real time by (now - epoch) * 3599.
    const absl::Duration ahead = absl::FromUnixNanos(ta1) - absl::Now();
    EXPECT_GT(ahead, absl::Hours(4));
  }
}

}  // namespace
}  // namespace shadowplane
