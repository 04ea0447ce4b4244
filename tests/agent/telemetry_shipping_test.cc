// The agent's own telemetry end to end (label e2e): a real instance (FileServer) answers requests
// from clients behind a trusted proxy, the agent's shipper (agent/telemetry_shipper.h) reads its
// access log through the spool into the real shadowplane binary's TelemetryService (on a
// PostgreSQL of the test's own), and every answered request is stored exactly once, across a
// control plane that is down for a while and an agent that restarts between reading and
// shipping, or between shipping and forgetting.
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <pqxx/pqxx>
#include <set>
#include <sstream>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/telemetry_shipper.h"
#include "api/telemetry_sink.h"
#include "cli/dns_target.h"
#include "cli/load_plan.h"
#include "cli/load_runner.h"
#include "cli/shadowctl.h"
#include "gtest/gtest.h"
#include "instance/file_server.h"
#include "providers/traffic/rfc2136/rfc2136_traffic_provider.h"
#include "shadowplane/v1/telemetry.grpc.pb.h"
#include "store/embedded_postgres.h"
#include "support/child_process.h"
#include "support/geoip_test_database.h"
#include "support/server_client.h"
#include "support/traffic_servers.h"

namespace shadowplane {
namespace {

namespace fs = std::filesystem;

constexpr char kResource[] = "bbbbbbbb-0000-4000-8000-000000000001";
constexpr char kInstance[] = "bbbbbbbb-1111-4000-8000-000000000001";
constexpr char kAgentKey[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

class TelemetryShippingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::MakeTempDir("sp-shipping");
    store::EmbeddedPostgresOptions pg_options;
    pg_options.data_dir = root_ + "/pg";
    pg_options.settings = {"fsync=off"};
    auto pg = store::EmbeddedPostgres::Start(pg_options);
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = *std::move(pg);
    auto geoip = testing::BuildGeoIpTestDatabase(root_);
    ASSERT_TRUE(geoip.ok()) << geoip.status();
    geoip_ = *geoip;
    // Clients of two regions, by their (loopback) addresses.
    std::ofstream(root_ + "/locations.yaml") << R"(
regions:
  - {name: eu-central, latitude: 50.1, longitude: 8.7}
  - {name: us-east, latitude: 39.0, longitude: -77.5}
locations:
  - {name: fra-1, region: eu-central, latitude: 50.1, longitude: 8.7,
     on_demand_price_per_vcpu_hour: 0.04, on_demand_price_per_gib_hour: 0.005,
     capacity_millicores: 4000, capacity_memory_mib: 4096}
networks:
  - {cidr: 127.101.0.0/16, region: us-east}
  - {cidr: 127.102.0.0/16, region: eu-central}
)";
    port_ = testing::FreePort();
    StartServer();
    pqxx::connection conn(pg_->url());
    pqxx::work txn(conn);
    txn.exec(absl::StrCat("INSERT INTO resources (id, name, created_at) VALUES ('", kResource,
                          "', 'web', now())"));
    txn.exec(absl::StrCat(
        "INSERT INTO instances (id, resource_id, role, location, capacity_millicores, "
        "memory_mib, capacity_type, read_only, state, created_at, updated_at) VALUES ('",
        kInstance, "', '", kResource,
        "', 'primary', 'fra-1', 1000, 512, 'on_demand', false, 'running', now(), now())"));
    txn.commit();

    // The instance, behind a proxy at 127.0.0.1 (the test's client connections come from there).
    fs::create_directories(root_ + "/data");
    std::ofstream(root_ + "/data/page") << std::string(300, 'p');
    instance::InstanceConfig config;
    config.instance_id = kInstance;
    config.resource_id = kResource;
    config.capacity = {4000, 128, CapacityType::kOnDemand};
    config.read_only = true;
    config.address = "127.0.0.1";
    config.trusted_proxies = {"127.0.0.1"};
    config.agent_key = kAgentKey;
    absl::Status bound;
    for (int attempt = 0; attempt < 5; ++attempt) {
      config.port = testing::FreePort();
      instance_ = std::make_unique<instance::FileServer>(root_ + "/data", config);
      bound = instance_->Bind();
      if (bound.ok()) break;
    }
    ASSERT_TRUE(bound.ok()) << bound;
    instance_port_ = config.port;
    instance_thread_ = std::thread([this] { instance_->Serve(); });
    sink_ = std::make_unique<api::GrpcTelemetrySink>(
        std::vector<std::string>{absl::StrCat("127.0.0.1:", port_)}, absl::Seconds(5));
  }

  void TearDown() override {
    shipper_.reset();
    if (instance_ != nullptr) instance_->Stop();
    if (instance_thread_.joinable()) instance_thread_.join();
    server_.reset();
    if (pg_ != nullptr) (void)pg_->Stop();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // `extra`: more flags (a scaled clock, say).
  void StartServer(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {
        SHADOWPLANE_BIN,
        absl::StrCat("--listen=127.0.0.1:", port_),
        absl::StrCat("--metrics_listen=127.0.0.1:", testing::FreePort()),
        "--database_url=" + pg_->url(),
        "--locations_file=" + root_ + "/locations.yaml",
        "--geoip_db=" + geoip_,
        "--db_check_interval=200ms"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    server_ = testing::StartServingServer(argv, port_);
    ASSERT_NE(server_, nullptr);
  }

  // A shipper as the agent runs one, driven round by round (or, `threaded`, by its own threads
  // polling every 50 ms).
  void StartShipper(bool threaded = false, double time_scale = 1,
                    absl::Time time_epoch = absl::UnixEpoch()) {
    agent::TelemetryShipperOptions options;
    options.time_scale = time_scale;
    options.time_epoch = time_epoch;
    options.spool_dir = root_ + "/spool";
    options.run_threads = threaded;
    options.poll_interval = absl::Milliseconds(50);
    options.max_batch_records = 50;
    options.utilization_interval = absl::Milliseconds(100);
    agent::ShippedInstance shipped{kInstance,      kResource, "127.0.0.1",
                                   instance_port_, getpid(),  kAgentKey};
    auto shipper = agent::TelemetryShipper::Start(
        options, [shipped] { return std::vector<agent::ShippedInstance>{shipped}; }, sink_.get(),
        nullptr);
    ASSERT_TRUE(shipper.ok()) << shipper.status();
    shipper_ = *std::move(shipper);
  }

  // `n` GETs from clients of region `region` (1: us-east, 2: eu-central) through the "proxy";
  // returns how many the instance answered (a refusal over its request rate is an access too).
  int Requests(int n, int region) {
    int answered = 0;
    httplib::Client client("127.0.0.1", instance_port_);
    for (int i = 0; i < n; ++i) {
      const std::string from = absl::StrCat("127.10", region, ".0.", 1 + i % 200);
      auto res = client.Get("/page", {{"X-Forwarded-For", from}});
      if (res) ++answered;
    }
    return answered;
  }

  int64_t Stored(const std::string& where = "true") {
    pqxx::connection conn(pg_->url());
    pqxx::nontransaction txn(conn);
    return txn
        .exec(absl::StrCat("SELECT count(*) FROM client_access_log WHERE instance_id = '",
                           kInstance, "' AND ", where))[0][0]
        .as<int64_t>();
  }

  // Three trace hours of two regions (175 requests, a fifth of them writes) at an hour a second.
  cli::LoadReport RunThreeHours(const cli::LoadRunOptions& run) {
    cli::LoadTrace trace;
    trace.start = absl::FromUnixSeconds(1736121600);
    trace.regions = {"us-east", "eu-central"};
    trace.demand = {{40, 20, 30}, {10, 50, 25}};
    absl::StatusOr<std::map<std::string, std::string>> networks =
        cli::ReadRegionNetworks(root_ + "/locations.yaml");
    EXPECT_TRUE(networks.ok()) << networks.status();
    cli::LoadPlanOptions plan_options;
    plan_options.hours = 3;
    plan_options.requests_per_unit = 1;
    plan_options.time_scale = 3600;  // an hour a second
    plan_options.write_share = 0.2;
    absl::StatusOr<cli::LoadPlan> plan = cli::PlanLoad(trace, *networks, plan_options);
    EXPECT_TRUE(plan.ok()) << plan.status();
    EXPECT_EQ(plan->requests.size(), 175u);
    absl::StatusOr<cli::LoadReport> report = cli::RunLoad(*plan, trace, run, nullptr);
    EXPECT_TRUE(report.ok()) << report.status();
    if (!report.ok()) return {};
    EXPECT_EQ(report->not_sent, 0);
    EXPECT_EQ(report->regions[0].sent, 90);
    EXPECT_EQ(report->regions[1].sent, 85);
    EXPECT_GT(report->regions[0].answered, 0);
    EXPECT_GT(report->regions[1].answered, 0);
    // Every write is timed as the client saw it, within the run.
    size_t writes = 0;
    for (const cli::PlannedRequest& q : plan->requests) writes += q.write ? 1 : 0;
    EXPECT_GT(writes, 0u);
    EXPECT_EQ(report->writes.size(), writes);
    for (const cli::WriteTiming& w : report->writes) {
      EXPECT_GE(w.started, report->started);
      EXPECT_GT(w.took, absl::ZeroDuration());
      EXPECT_LE(w.started + w.took, report->started + report->elapsed);
    }
    return *report;
  }

  // Once shipped, GetDemand over the hours the run took is, per region, what the load generator
  // saw answered (the 175 sent less what failed).
  void ExpectDemandIsWhatWasAnswered(const cli::LoadReport& report, absl::Time began) {
    ASSERT_EQ(report.regions.size(), 2u);
    absl::SleepFor(absl::Milliseconds(150));
    ASSERT_TRUE(shipper_->CollectOnce().ok());
    ASSERT_TRUE(shipper_->ShipOnce().ok());
    testing::ServerClient client(port_);
    auto stub = v1::TelemetryService::NewStub(client.channel());
    grpc::ClientContext context;
    v1::GetDemandRequest request;
    request.set_resource_id(kResource);
    request.mutable_from()->set_seconds(absl::ToUnixSeconds(began) / 3600 * 3600);
    request.mutable_to()->set_seconds((absl::ToUnixSeconds(absl::Now()) / 3600 + 1) * 3600);
    v1::GetDemandResponse response;
    const grpc::Status status = stub->GetDemand(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    std::map<std::string, int64_t> demand;
    std::map<std::string, std::map<int64_t, int64_t>> per_hour;
    for (const v1::DemandSeries& region : response.regions()) {
      for (const v1::DemandPoint& p : region.points()) {
        demand[region.origin_region()] += p.requests();
        if (p.requests() > 0) per_hour[region.origin_region()][p.start().seconds()] = p.requests();
      }
    }
    // Per region and hour: the instance times a request when it has answered, the generator when
    // the answer arrived, so both put it in the same hour unless it ended within a hair of one.
    EXPECT_EQ(per_hour["us-east"], report.regions[0].answered_per_wall_hour);
    EXPECT_EQ(per_hour["eu-central"], report.regions[1].answered_per_wall_hour);
    EXPECT_EQ(demand["us-east"], report.regions[0].answered);
    EXPECT_EQ(demand["eu-central"], report.regions[1].answered);
    EXPECT_EQ(demand["us-east"] + demand["eu-central"],
              175 - report.regions[0].failed - report.regions[1].failed);
  }

  std::string root_, geoip_;
  std::unique_ptr<store::EmbeddedPostgres> pg_;
  std::unique_ptr<testing::ChildProcess> server_;
  int port_ = 0, instance_port_ = 0;
  std::unique_ptr<instance::FileServer> instance_;
  std::thread instance_thread_;
  std::unique_ptr<api::GrpcTelemetrySink> sink_;
  std::unique_ptr<agent::TelemetryShipper> shipper_;
};

TEST_F(TelemetryShippingTest, AControlPlaneDownForAWhileLosesAndDuplicatesNothing) {
  StartShipper();
  int answered = Requests(120, 1);
  ASSERT_TRUE(shipper_->CollectOnce().ok());
  ASSERT_TRUE(shipper_->ShipOnce().ok());
  EXPECT_EQ(Stored(), answered);
  // The control plane goes away; the instance keeps answering, the agent keeps spooling.
  server_.reset();
  answered += Requests(150, 2);
  ASSERT_TRUE(shipper_->CollectOnce().ok());
  EXPECT_GT(shipper_->spooled_batches(), 0);
  EXPECT_EQ(shipper_->ShipOnce().code(), absl::StatusCode::kUnavailable);
  answered += Requests(30, 1);
  ASSERT_TRUE(shipper_->CollectOnce().ok());
  // Back: everything spooled goes, once.
  StartServer();
  ASSERT_TRUE(shipper_->ShipOnce().ok());
  EXPECT_EQ(shipper_->spooled_batches(), 0);
  ASSERT_GT(answered, 0);
  EXPECT_EQ(Stored(), answered);
  EXPECT_EQ(Stored("origin_region = 'eu-central'"), 150);
  EXPECT_EQ(Stored("origin_region = 'us-east'"), 150);
  // Bytes as the instance's connections counted them: each answer carries the 300-byte page.
  EXPECT_EQ(Stored("bytes_out < 300"), 0);
}

TEST_F(TelemetryShippingTest, AnAgentRestartLosesAndDuplicatesNothing) {
  StartShipper();
  int answered = Requests(80, 1);
  // Read and spooled, then the agent stops before shipping.
  ASSERT_TRUE(shipper_->CollectOnce().ok());
  shipper_.reset();
  answered += Requests(70, 2);
  StartShipper();
  ASSERT_TRUE(shipper_->CollectOnce().ok());  // reads on after what the spool holds
  // Shipped, but the agent dies before it forgets a batch: it sends it again after the restart.
  const fs::path spool = root_ + "/spool";
  std::vector<std::pair<fs::path, std::string>> kept;
  for (const auto& e : fs::directory_iterator(spool)) {
    if (e.path().extension() != ".batch") continue;
    std::ifstream in(e.path());
    kept.emplace_back(e.path(), std::string(std::istreambuf_iterator<char>(in), {}));
  }
  ASSERT_FALSE(kept.empty());
  ASSERT_TRUE(shipper_->ShipOnce().ok());
  shipper_.reset();
  for (const auto& [path, content] : kept) std::ofstream(path) << content;
  answered += Requests(40, 1);
  StartShipper();
  ASSERT_TRUE(shipper_->CollectOnce().ok());
  ASSERT_TRUE(shipper_->ShipOnce().ok());
  ASSERT_GT(answered, 0);
  EXPECT_EQ(Stored(), answered);
  EXPECT_EQ(Stored("origin_region = 'eu-central'"), 70);
}

// The same under load, with the shipper's own threads: clients of two regions never stop while the
// control plane is killed and comes back, and then while the agent's shipper stops and starts
// again; once the load ends and the spool drains, every answered request is stored once.
TEST_F(TelemetryShippingTest, UnderLoadAControlPlaneKillAndAnAgentRestartLoseAndDuplicateNothing) {
  StartShipper(/*threaded=*/true);
  std::atomic<bool> stop{false};
  std::atomic<int> answered[3] = {0, 0, 0};
  std::vector<std::thread> clients;
  for (int region : {1, 2}) {
    clients.emplace_back([&, region] {
      while (!stop.load()) answered[region] += Requests(5, region);
    });
  }
  absl::Cleanup join = [&] {
    stop = true;
    for (std::thread& t : clients) t.join();
  };
  auto load_for = [&](absl::Duration d) {
    const int before = answered[1] + answered[2];
    absl::SleepFor(d);
    EXPECT_GT(answered[1] + answered[2], before) << "the clients kept being answered";
  };
  load_for(absl::Milliseconds(600));
  server_.reset();  // SIGKILL: whatever it had not acknowledged is sent again
  load_for(absl::Seconds(1));
  EXPECT_GT(shipper_->spooled_batches(), 0) << "spooled while the control plane was away";
  StartServer();
  load_for(absl::Milliseconds(600));
  shipper_.reset();  // the agent stops mid-stream and starts again on its spool and cursors
  load_for(absl::Milliseconds(400));
  StartShipper(/*threaded=*/true);
  load_for(absl::Milliseconds(600));
  std::move(join).Invoke();
  const int total = answered[1] + answered[2];
  ASSERT_GT(answered[1], 100);
  ASSERT_GT(answered[2], 100);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (Stored() < total && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(100));
  absl::SleepFor(absl::Milliseconds(300));  // and nothing more arrives late
  EXPECT_EQ(Stored(), total);
  EXPECT_EQ(Stored("origin_region = 'us-east'"), answered[1]);
  EXPECT_EQ(Stored("origin_region = 'eu-central'"), answered[2]);
  std::cout << "under load: " << total << " answered requests, " << Stored()
            << " stored, across a control plane kill and an agent restart" << std::endl;
}

// Under a scaled clock (a demo: here an hour a minute), the agent stamps what it ships in the
// deployment's domain time, as the server reads it: the accesses land hours after real time, and
// a utilization sample's interval is in domain time too.
TEST_F(TelemetryShippingTest, UnderAScaledClockRecordsAreStampedInDomainTime) {
  const absl::Time epoch = absl::Now() - absl::Minutes(10);
  server_.reset();
  StartServer({"--time_scale=60",
               "--time_epoch=" + absl::FormatTime(absl::RFC3339_full, epoch, absl::UTCTimeZone())});
  StartShipper(/*threaded=*/false, 60, epoch);
  ASSERT_TRUE(shipper_->CollectOnce().ok());  // the first utilization reading
  const int answered = Requests(30, 1);
  absl::SleepFor(absl::Milliseconds(150));
  ASSERT_TRUE(shipper_->CollectOnce().ok());
  ASSERT_TRUE(shipper_->ShipOnce().ok());
  ASSERT_GT(answered, 0);
  // Ten real minutes after the epoch are ten domain hours after it.
  EXPECT_EQ(
      Stored(absl::StrCat(
          "ts > '",
          absl::FormatTime(absl::RFC3339_full, epoch + absl::Hours(9), absl::UTCTimeZone()), "'")),
      answered);
  pqxx::connection conn(pg_->url());
  pqxx::nontransaction txn(conn);
  const pqxx::row sample = txn.exec1(absl::StrCat(
      "SELECT interval_seconds, ts > '",
      absl::FormatTime(absl::RFC3339_full, epoch + absl::Hours(9), absl::UTCTimeZone()),
      "'::timestamptz FROM instance_utilization WHERE instance_id = '", kInstance,
      "' ORDER BY ts DESC LIMIT 1"));
  EXPECT_GE(sample[0].as<double>(), 60 * 0.1) << "150 ms real, 9 s domain";
  EXPECT_TRUE(sample[1].as<bool>());
  // A scale that cannot be is refused.
  agent::TelemetryShipperOptions bad;
  bad.spool_dir = root_ + "/spool-bad";
  bad.time_scale = 0;
  EXPECT_EQ(agent::TelemetryShipper::Start(
                bad, [] { return std::vector<agent::ShippedInstance>{}; }, sink_.get(), nullptr)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TelemetryShippingTest, UtilizationIsSampledFromTheInstanceProcess) {
  StartShipper();
  ASSERT_TRUE(shipper_->CollectOnce().ok());  // the first reading starts the interval
  Requests(50, 1);
  absl::SleepFor(absl::Milliseconds(150));
  ASSERT_TRUE(shipper_->CollectOnce().ok());
  ASSERT_TRUE(shipper_->ShipOnce().ok());
  pqxx::connection conn(pg_->url());
  pqxx::nontransaction txn(conn);
  const pqxx::result rows = txn.exec(absl::StrCat(
      "SELECT count(*), coalesce(sum(net_bytes_out), 0), coalesce(max(memory_bytes), 0) "
      "FROM instance_utilization WHERE instance_id = '",
      kInstance, "'"));
  EXPECT_EQ(rows[0][0].as<int64_t>(), 1);
  EXPECT_GE(rows[0][1].as<int64_t>(), 50 * 300) << "the answers' bytes, counted by the instance";
  EXPECT_GT(rows[0][2].as<int64_t>(), 1 << 20) << "this process's resident memory";
}

// The load generator's requests from two regions through a real HAProxy (option forwardfor, as
// deploy/local/haproxy.cfg) to the instance are, per region, the demand GetDemand reports, less
// what the generator counted as failed; the instance's utilization is recorded beside.
TEST_F(TelemetryShippingTest, TheLoadGeneratorsRequestsThroughHaproxyAreTheDemandPerRegion) {
  auto haproxy = testing::HaproxyServer::Start({"web"}, "option forwardfor");
  ASSERT_TRUE(haproxy.ok()) << haproxy.status();
  (*haproxy)->Ask(absl::StrCat("set server web/live addr 127.0.0.1 port ", instance_port_));
  (*haproxy)->Ask("set server web/live state ready");
  StartShipper();
  ASSERT_TRUE(shipper_->CollectOnce().ok());  // the first utilization reading
  const absl::Time began = absl::Now();
  cli::LoadRunOptions run;
  run.host = "127.0.0.1";
  run.port = (*haproxy)->frontend_port(0);
  run.concurrency = 8;
  const cli::LoadReport report = RunThreeHours(run);
  EXPECT_EQ(report.regions[0].served_by.count(kInstance), 1u);
  ExpectDemandIsWhatWasAnswered(report, began);
  pqxx::connection conn(pg_->url());
  pqxx::nontransaction txn(conn);
  EXPECT_GE(txn.exec(absl::StrCat("SELECT count(*) FROM instance_utilization WHERE "
                                  "memory_bytes > 0 AND instance_id = '",
                                  kInstance, "'"))[0][0]
                .as<int64_t>(),
            1);
}

// The same through DNS: the load generator resolves the service name at a real Knot DNS, as a
// client with a cache does (again once the 1 s TTL has passed), then connects to the instance
// from each region's own addresses; the origins come from the connections themselves.
TEST_F(TelemetryShippingTest, TheLoadGeneratorsRequestsThroughDnsAreTheDemandPerRegion) {
  auto knot = testing::KnotServer::Start("svc.test.", "shadowplane");
  ASSERT_TRUE(knot.ok()) << knot.status();
  providers::rfc2136::Rfc2136Options dns;
  dns.server = (*knot)->address();
  dns.zone = "svc.test.";
  dns.tsig_key_name = "shadowplane";
  dns.tsig_secret = (*knot)->secret();
  dns.ttl = absl::Seconds(1);
  dns.prepare_ttl = absl::Seconds(1);
  auto provider = providers::rfc2136::Rfc2136TrafficProvider::Create(dns);
  ASSERT_TRUE(provider.ok()) << provider.status();
  ASSERT_TRUE((*provider)->Register("web", {"127.0.0.1", false, instance_port_}).ok());

  // Bad targets are refused before anything is sent.
  EXPECT_EQ(
      cli::DnsTarget::Create("192.0.2.53:53", "web.svc.test", absl::Seconds(1)).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      cli::DnsTarget::Create((*knot)->address(), "web..svc", absl::Seconds(1)).status().code(),
      absl::StatusCode::kInvalidArgument);
  auto missing = cli::DnsTarget::Create((*knot)->address(), "nobody.svc.test", absl::Seconds(1));
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ((*missing)->Resolve().status().code(), absl::StatusCode::kNotFound);

  StartShipper();
  ASSERT_TRUE(shipper_->CollectOnce().ok());
  const absl::Time began = absl::Now();
  auto target = cli::DnsTarget::Create((*knot)->address(), "web.svc.test", absl::Seconds(2));
  ASSERT_TRUE(target.ok()) << target.status();
  cli::LoadRunOptions run;
  run.resolve = [t = target->get()] { return t->Resolve(); };
  run.port = instance_port_;
  run.concurrency = 8;
  const absl::Time sent_from = absl::Now();
  const cli::LoadReport report = RunThreeHours(run);
  const absl::Duration took = absl::Now() - sent_from;
  EXPECT_EQ(report.unresolved, 0);
  EXPECT_EQ(report.regions[1].served_by.count(kInstance), 1u);
  EXPECT_EQ((*target)->addresses(), (std::set<std::string>{"127.0.0.1"}));
  // Asked again once per TTL, not per request.
  EXPECT_GE((*target)->lookups(), 2);
  EXPECT_LE((*target)->lookups(), absl::ToInt64Seconds(took) + 2);
  ExpectDemandIsWhatWasAnswered(report, began);
}

// History back-filled from a trace, and an existing access log imported, each stored once per
// access however often the command runs.
TEST_F(TelemetryShippingTest, BackfillAndImportStoreEachAccessOnceAcrossReruns) {
  const std::string trace_dir = root_ + "/trace";
  fs::create_directories(trace_dir);
  int64_t expected_east = 0, expected_eu = 0;
  {
    std::ofstream east(trace_dir + "/us-east.csv"), eu(trace_dir + "/eu-central.csv");
    for (std::ofstream* f : {&east, &eu}) *f << "date_time,raw demand (MW),cleaned demand (MW)\n";
    for (int h = 0; h < 336; ++h) {
      const std::string time =
          absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(1435795200) + absl::Hours(h),
                           absl::UTCTimeZone());
      const int a = 100 + h % 24, b = 40 + (h * 7) % 30;
      east << time << "," << a << "," << a << "\n";
      eu << time << "," << b << "," << b << "\n";
      if (h >= 168) {  // the week before --from_hour=336
        expected_east += std::llround(a * 0.1);
        expected_eu += std::llround(b * 0.1);
      }
    }
  }
  cli::ShadowctlOptions options;
  options.server = absl::StrCat("127.0.0.1:", port_);
  options.trace = trace_dir;
  options.locations_file = root_ + "/locations.yaml";
  options.from_hour = 336;
  options.requests_per_unit = 0.1;
  options.backfill_weeks = 1;
  options.resource = kResource;
  auto demand = [&](const std::string& region) {
    pqxx::connection conn(pg_->url());
    pqxx::nontransaction txn(conn);
    return txn
        .exec(absl::StrCat("SELECT coalesce(sum(requests), 0) FROM demand_hourly WHERE "
                           "resource_id = '",
                           kResource, "' AND origin_region = '", region, "'"))[0][0]
        .as<int64_t>();
  };
  for (int run = 0; run < 2; ++run) {
    std::ostringstream out, err;
    ASSERT_EQ(cli::RunShadowctl({"loadgen"}, options, out, err), cli::kExitOk) << err.str();
    EXPECT_NE(out.str().find(run == 0 ? "0 stored before" : " 0 stored,"), std::string::npos)
        << out.str();
    EXPECT_EQ(demand("us-east"), expected_east) << "run " << run;
    EXPECT_EQ(demand("eu-central"), expected_eu) << "run " << run;
  }
  ASSERT_GT(expected_east, 0);

  const std::string log = root_ + "/access.csv";
  std::ofstream(log) << "time,client_ip,resource_id,request_type,bytes_in,bytes_out,latency_ms\n"
                     << absl::FormatTime("%Y-%m-%dT%H:00:00Z", absl::Now() - absl::Hours(30),
                                         absl::UTCTimeZone())
                     << ",127.101.9.9," << kResource << ",IMPORTED,10,20,1.5\n"
                     << absl::FormatTime("%Y-%m-%dT%H:00:00Z", absl::Now() - absl::Hours(29),
                                         absl::UTCTimeZone())
                     << ",127.102.9.9," << kResource << ",IMPORTED,10,20,\n";
  for (int run = 0; run < 2; ++run) {
    std::ostringstream out, err;
    ASSERT_EQ(cli::RunShadowctl({"accesses", "import", log}, options, out, err), cli::kExitOk)
        << err.str();
    EXPECT_EQ(Stored("request_type = 'IMPORTED'"), 0) << "no instance named: not this instance's";
    pqxx::connection conn(pg_->url());
    pqxx::nontransaction txn(conn);
    EXPECT_EQ(
        txn.exec("SELECT count(*) FROM client_access_log WHERE request_type = 'IMPORTED'")[0][0]
            .as<int64_t>(),
        2)
        << out.str();
  }
}

}  // namespace
}  // namespace shadowplane
