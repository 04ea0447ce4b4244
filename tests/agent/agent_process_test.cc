// Runs shadowplane-agent (label e2e) with real instance processes on loopback addresses, driven
// through the local compute provider, and checks them over HTTP.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/agent_protocol.h"
#include "gtest/gtest.h"
#include "providers/compute/local/local_compute_provider.h"
#include "shadowplane/agent/v1/agent.grpc.pb.h"
#include "support/agent_under_test.h"
#include "support/child_process.h"

namespace shadowplane {
namespace {

namespace fs = std::filesystem;
using providers::InstanceInfo;
using providers::InstanceRunState;
using providers::InstanceSpec;

constexpr char kForwardSecret[] =
    "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0";
using testing::ChildProcess;

class AgentProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::MakeTempDir("sp-agent");
    ASSERT_FALSE(root_.empty());
    seed_ = root_ + "/seed";
    fs::create_directories(seed_ + "/sub");
    std::ofstream(seed_ + "/a.txt") << "alpha";
    std::ofstream(seed_ + "/sub/b.txt") << "beta";
    std::ofstream(root_ + "/secret.txt") << "TOPSECRET";
    fs::create_symlink(root_ + "/secret.txt", seed_ + "/escape");
    agent_ = std::make_unique<testing::AgentUnderTest>(SHADOWPLANE_AGENT_BIN, root_, "lab");
    ASSERT_TRUE(agent_->Start().ok());
    network_ = agent_->network();
    instance_port_ = agent_->instance_port();
    providers::ComputeProviderContext context;
    context.location_endpoint = [this](const std::string& location) -> absl::StatusOr<std::string> {
      if (location != "lab") return absl::NotFoundError("unknown location " + location);
      return agent_->endpoint();
    };
    context.call_timeout = absl::Seconds(20);
    provider_ = std::make_unique<providers::LocalComputeProvider>(context);
  }

  void TearDown() override {
    agent_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  InstanceSpec Spec(const std::string& id, bool read_only, int64_t millicores = 500) {
    InstanceSpec spec;
    spec.instance_id = id;
    spec.resource_id = "res-1";
    spec.location = "lab";
    spec.capacity = {millicores, 256, CapacityType::kOnDemand};
    spec.read_only = read_only;
    // No control plane renews it here: a lease that outlasts the test.
    if (!read_only) spec.grant = {1, absl::Minutes(10)};
    spec.seed_dir = seed_;
    return spec;
  }

  static std::unique_ptr<httplib::Client> Http(const InstanceInfo& info) {
    const std::string host = info.endpoint.substr(0, info.endpoint.rfind(':'));
    int port = 0;
    EXPECT_TRUE(absl::SimpleAtoi(info.endpoint.substr(info.endpoint.rfind(':') + 1), &port));
    auto client = std::make_unique<httplib::Client>(host, port);
    client->set_connection_timeout(2);
    client->set_read_timeout(5);
    return client;
  }

  static std::string Get(const InstanceInfo& info, const std::string& path, int* status = nullptr) {
    auto res = Http(info)->Get(path.c_str());
    if (status != nullptr) *status = res ? res->status : -1;
    return res ? res->body : "";
  }

  int InstanceDirs() {
    int n = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root_ + "/data/instances", ec)) {
      if (!absl::StartsWith(entry.path().filename().string(), ".")) ++n;
    }
    return n;
  }

  std::string root_, seed_, network_;
  int instance_port_ = 0;
  std::unique_ptr<testing::AgentUnderTest> agent_;
  std::unique_ptr<providers::LocalComputeProvider> provider_;
};

TEST_F(AgentProcessTest, ServesScalesRestartsAndOutlivesTheAgent) {
  auto primary = provider_->CreateInstance(Spec("primary-1", /*read_only=*/false));
  ASSERT_TRUE(primary.ok()) << primary.status() << agent_->process().Output();
  // The resource's forwarding secret: the shadow (the new primary below) gets it when created,
  // the primary when it is told to forward.
  InstanceSpec shadow_spec = Spec("shadow-1", /*read_only=*/true);
  shadow_spec.forward_secret = kForwardSecret;
  auto shadow = provider_->CreateInstance(shadow_spec);
  ASSERT_TRUE(shadow.ok()) << shadow.status();
  EXPECT_EQ(primary->state, InstanceRunState::kRunning);
  EXPECT_NE(primary->endpoint, shadow->endpoint) << "each instance has an address of its own";
  EXPECT_TRUE(absl::StartsWith(primary->endpoint, network_ + "."));

  // Both serve the seed's files.
  for (const InstanceInfo* info : {&*primary, &*shadow}) {
    EXPECT_EQ(Get(*info, "/a.txt"), "alpha");
    EXPECT_EQ(Get(*info, "/sub/b.txt"), "beta");
    auto head = Http(*info)->Head("/a.txt");
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->get_header_value("Content-Length"), "5");
  }
  // Writes go to the primary only; the shadow is read-only for real.
  auto put = Http(*primary)->Put("/new/c.txt", "gamma", "text/plain");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 201);
  EXPECT_EQ(Get(*primary, "/new/c.txt"), "gamma");
  auto refused = Http(*shadow)->Put("/new/c.txt", "gamma", "text/plain");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 405);
  EXPECT_EQ(refused->get_header_value("Allow"), "GET, HEAD");
  auto refused_delete = Http(*shadow)->Delete("/a.txt");
  ASSERT_TRUE(refused_delete);
  EXPECT_EQ(refused_delete->status, 405);
  EXPECT_EQ(Get(*shadow, "/a.txt"), "alpha");

  // Scaling changes the running instance's limits without a restart.
  auto scaled = provider_->ScaleInstance("lab", "primary-1", {2000, 512, CapacityType::kOnDemand});
  ASSERT_TRUE(scaled.ok()) << scaled.status();
  EXPECT_EQ(scaled->capacity.millicores, 2000);
  bool applied = false;
  for (int i = 0; i < 50 && !applied; ++i) {
    applied = absl::StrContains(Get(*primary, "/_shadowplane/status"), "\"millicores\":2000");
    if (!applied) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(applied) << Get(*primary, "/_shadowplane/status");
  EXPECT_TRUE(absl::StrContains(Get(*primary, "/_shadowplane/status"), "\"worker_threads\":8"));

  // A killed instance is restarted.
  auto before = provider_->DescribeInstance("lab", "primary-1");
  ASSERT_TRUE(before.ok());
  std::ifstream pid_file(root_ + "/data/instances/primary-1/instance.pid");
  int pid = 0;
  pid_file >> pid;
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  bool restarted = false;
  for (int i = 0; i < 100 && !restarted; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    auto now = provider_->DescribeInstance("lab", "primary-1");
    restarted = now.ok() && now->restarts == 1 && now->state == InstanceRunState::kRunning;
  }
  ASSERT_TRUE(restarted) << agent_->process().Output();
  EXPECT_EQ(Get(*primary, "/new/c.txt"), "gamma") << "data survives the restart";
  EXPECT_TRUE(absl::StrContains(Get(*primary, "/_shadowplane/status"), "\"millicores\":2000"));

  // The agent's metrics say what happened, in valid exposition format.
  const std::string metrics_url =
      absl::StrCat("http://127.0.0.1:", agent_->metrics_port(), "/metrics");
  bool counted = false;
  std::string metrics;
  for (int i = 0; i < 50 && !counted; ++i) {  // byte counters are polled from the instances
    metrics = testing::RunToCompletion({"/usr/bin/curl", "-sf", metrics_url}).output;
    counted = absl::StrContains(metrics, "shadowplane_agent_instance_requests_total") &&
              !absl::StrContains(metrics, "shadowplane_agent_instance_requests_total 0\n");
    if (!counted) absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_TRUE(counted) << metrics;
  for (const char* expected :
       {"shadowplane_agent_instances{state=\"running\"} 2",
        "shadowplane_agent_instance_restarts_total 1",
        "shadowplane_agent_instance_bytes_total{direction=\"sent\"}",
        "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"CreateInstance\""}) {
    EXPECT_TRUE(absl::StrContains(metrics, expected)) << expected << "\n" << metrics;
  }
  auto promtool = testing::RunToCompletion(
      {"/bin/sh", "-c", "/usr/bin/curl -sf " + metrics_url + " | /usr/bin/promtool check metrics"});
  EXPECT_EQ(promtool.exit_code, 0) << promtool.output;

  // The agent dies; the instances keep serving, and the next agent adopts them.
  agent_->Kill();
  EXPECT_EQ(Get(*primary, "/a.txt"), "alpha");
  EXPECT_EQ(Get(*shadow, "/a.txt"), "alpha");
  ASSERT_TRUE(agent_->Start().ok());
  EXPECT_TRUE(absl::StrContains(agent_->process().Output(), "adopted running instance"));
  auto list = provider_->ListInstances("lab");
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 2u);
  for (const InstanceInfo& info : *list) EXPECT_EQ(info.state, InstanceRunState::kRunning);
  auto adopted = provider_->DescribeInstance("lab", "primary-1");
  ASSERT_TRUE(adopted.ok());
  EXPECT_EQ(adopted->restarts, 0) << "adopted, not restarted";

  // Mode changes reach the running instance.
  ASSERT_TRUE(provider_->SetReadOnly("lab", "primary-1", true).ok());
  bool read_only = false;
  for (int i = 0; i < 50 && !read_only; ++i) {
    auto res = Http(*primary)->Put("/x.txt", "x", "text/plain");
    read_only = res && res->status == 405;
    if (!read_only) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(read_only);

  // Write routing around a traffic switch: the old primary forwards writes to the new one (and is
  // read-only from the same step on, writable as it was before); during a freeze it holds them,
  // at most hold_ms each.
  EXPECT_EQ(provider_->SetReadOnly("lab", "shadow-1", false).status().code(),
            absl::StatusCode::kInvalidArgument)
      << "read-write only under a grant";
  const shadowplane::providers::WriteGrant grant{1, absl::Minutes(10)};
  ASSERT_TRUE(provider_->GrantWrites("lab", "shadow-1", grant).ok());
  ASSERT_TRUE(provider_->GrantWrites("lab", "primary-1", grant).ok());
  shadowplane::providers::WriteRouting forward;
  forward.forward_writes_to = shadow->endpoint;
  forward.forward_secret = kForwardSecret;
  const absl::Time routed_at = absl::Now();
  auto routed = provider_->SetWriteRouting("lab", "primary-1", forward);
  ASSERT_TRUE(routed.ok()) << routed.status();
  EXPECT_EQ(routed->forward_writes_to, shadow->endpoint);
  EXPECT_TRUE(routed->read_only) << "forwarding makes the old primary read-only";
  int forwarded_status = 0;
  for (int i = 0; i < 50 && forwarded_status != 201; ++i) {
    auto res = Http(*primary)->Put("/fwd.txt", "forwarded", "text/plain");
    forwarded_status = res ? res->status : -1;
    if (forwarded_status != 201) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(forwarded_status, 201);
  EXPECT_EQ(Get(*shadow, "/fwd.txt"), "forwarded") << "the write landed on the new primary";
  {
    // Read through the old primary, it comes from the new one (reads are forwarded too).
    auto read = Http(*primary)->Get("/fwd.txt");
    ASSERT_TRUE(read);
    EXPECT_EQ(read->body, "forwarded");
    EXPECT_EQ(read->get_header_value("X-Shadowplane-Served-By"), "shadow-1");
  }
  shadowplane::providers::WriteRouting freeze;
  freeze.hold_writes = true;
  freeze.hold = absl::Milliseconds(300);
  ASSERT_TRUE(provider_->SetWriteRouting("lab", "primary-1", freeze).ok());
  int held_status = 0;
  absl::Duration held_for;
  for (int i = 0; i < 50 && held_status != 503; ++i) {
    const absl::Time start = absl::Now();
    auto res = Http(*primary)->Put("/held.txt", "held", "text/plain");
    held_for = absl::Now() - start;
    held_status = res ? res->status : -1;
    if (held_status != 503) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(held_status, 503) << "held past hold_ms: refused, to be retried";
  EXPECT_GE(held_for, absl::Milliseconds(250));
  // What the forwarding and the expired hold did to this client, as the instance recorded it and
  // the agent relays it.
  auto disruptions = provider_->Disruptions("lab", "primary-1", routed_at);
  ASSERT_TRUE(disruptions.ok()) << disruptions.status();
  bool found = false;
  for (const auto& c : disruptions->clients) {
    if (c.client != "ip:127.0.0.1") continue;
    found = true;
    EXPECT_GE(c.forwarded, 1);
    EXPECT_GE(c.failed, 1);
  }
  EXPECT_TRUE(found);
  EXPECT_FALSE(disruptions->truncated);
  shadowplane::providers::WriteRouting bad = freeze;
  bad.hold = absl::Seconds(70);
  EXPECT_EQ(provider_->SetWriteRouting("lab", "primary-1", bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = forward;
  bad.forward_writes_to = "new-primary.example:8080";
  EXPECT_EQ(provider_->SetWriteRouting("lab", "primary-1", bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = forward;
  bad.forward_secret = "not-a-secret";
  EXPECT_EQ(provider_->SetWriteRouting("lab", "primary-1", bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(provider_->SetWriteRouting("lab", "nobody", forward).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(provider_->SetWriteRouting("lab", "primary-1", {}).ok());
  int old_status = 0;
  Get(*primary, "/fwd.txt", &old_status);
  EXPECT_EQ(old_status, 404) << "the forwarded write never landed on the old primary";

  // Deactivation stops it and frees its capacity; with delete_data its directory goes.
  auto stopped = provider_->DeactivateInstance("lab", "shadow-1", /*delete_data=*/true);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(stopped->state, InstanceRunState::kDeleted);
  int status = 0;
  Get(*shadow, "/a.txt", &status);
  EXPECT_EQ(status, -1) << "nothing listens there any more";
  EXPECT_EQ(InstanceDirs(), 1);
  EXPECT_EQ(provider_->DescribeInstance("lab", "shadow-1").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(AgentProcessTest, HttpRefusesTraversalAndLinksOutOfTheData) {
  auto info = provider_->CreateInstance(Spec("rw-1", /*read_only=*/false));
  ASSERT_TRUE(info.ok()) << info.status();
  // httplib's client would normalise some of these; send them raw.
  const std::string host = info->endpoint.substr(0, info->endpoint.rfind(':'));
  for (const char* target : {"/../secret.txt", "/sub/../../secret.txt", "/%2e%2e/secret.txt",
                             "/sub%2f..%2f..%2fsecret.txt", "/sub%5c..%5csecret.txt"}) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(instance_port_));
    inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    const std::string request =
        absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
    char buf[256] = {};
    ASSERT_GT(read(fd, buf, sizeof(buf) - 1), 0);
    close(fd);
    EXPECT_TRUE(absl::StartsWith(buf, "HTTP/1.1 400")) << target << ": " << buf;
  }
  int status = 0;
  const std::string body = Get(*info, "/escape", &status);
  EXPECT_EQ(status, 403) << "a symlink out of the data is not followed";
  EXPECT_FALSE(absl::StrContains(body, "TOPSECRET"));
  auto put = Http(*info)->Put("/escape", "overwrite", "text/plain");
  ASSERT_TRUE(put);
  std::ifstream secret(root_ + "/secret.txt");
  std::string text;
  secret >> text;
  EXPECT_EQ(text, "TOPSECRET") << "no write goes through a link";
  Get(*info, "/nope.txt", &status);
  EXPECT_EQ(status, 404);
}

TEST_F(AgentProcessTest, BadRequestsGetClearErrorsAndLeaveNothingBehind) {
  InstanceSpec missing_seed = Spec("i-1", true);
  missing_seed.seed_dir = root_ + "/no-such-seed";
  auto created = provider_->CreateInstance(missing_seed);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(created.status().message(), root_ + "/no-such-seed"))
      << created.status();

  // Seeds only from inside the agent's seed root (the tests' /tmp): not from /etc.
  InstanceSpec etc_seed = Spec("i-1", true);
  etc_seed.seed_dir = "/etc";
  auto from_etc = provider_->CreateInstance(etc_seed);
  EXPECT_EQ(from_etc.status().code(), absl::StatusCode::kPermissionDenied) << from_etc.status();
  EXPECT_TRUE(absl::StrContains(from_etc.status().message(), "outside the agent's seed root"))
      << from_etc.status();

  InstanceSpec file_seed = Spec("i-1", true);
  file_seed.seed_dir = root_ + "/secret.txt";
  EXPECT_EQ(provider_->CreateInstance(file_seed).status().code(),
            absl::StatusCode::kInvalidArgument);

  auto zero = provider_->CreateInstance(Spec("i-1", true, /*millicores=*/0));
  EXPECT_EQ(zero.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(zero.status().message(), "capacity.millicores")) << zero.status();

  auto too_big = provider_->CreateInstance(Spec("i-1", true, /*millicores=*/5000));
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kResourceExhausted) << too_big.status();

  auto bad_id = provider_->CreateInstance(Spec("../etc", true));
  EXPECT_EQ(bad_id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad_id.status().message(), "instance_id")) << bad_id.status();

  EXPECT_EQ(provider_->DescribeInstance("lab", "ghost").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(provider_->Disruptions("lab", "ghost", absl::Now()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(
      provider_->ScaleInstance("lab", "ghost", {100, 10, CapacityType::kOnDemand}).status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(provider_->ListInstances("elsewhere").status().code(), absl::StatusCode::kNotFound);

  // Someone else holds the address the next instance would get.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(instance_port_));
  inet_pton(AF_INET, (network_ + ".1").c_str(), &addr.sin_addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  auto in_use = provider_->CreateInstance(Spec("i-1", true));
  EXPECT_EQ(in_use.status().code(), absl::StatusCode::kFailedPrecondition) << in_use.status();
  EXPECT_TRUE(absl::StrContains(in_use.status().message(), "in use")) << in_use.status();
  close(fd);

  EXPECT_EQ(InstanceDirs(), 0) << "no half-created instance";
  auto list = provider_->ListInstances("lab");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());

  // Idempotent create; a different spec under the same id is refused.
  auto first = provider_->CreateInstance(Spec("i-1", true));
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = provider_->CreateInstance(Spec("i-1", true));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->endpoint, first->endpoint);
  EXPECT_EQ(provider_->CreateInstance(Spec("i-1", false)).status().code(),
            absl::StatusCode::kAlreadyExists);
  // Scaling beyond the location's free capacity.
  EXPECT_EQ(
      provider_->ScaleInstance("lab", "i-1", {4001, 10, CapacityType::kOnDemand}).status().code(),
      absl::StatusCode::kResourceExhausted);
}

TEST_F(AgentProcessTest, ProtocolVersionIsChecked) {
  auto stub = shadowplane::agent::v1::AgentService::NewStub(
      grpc::CreateChannel(agent_->endpoint(), grpc::InsecureChannelCredentials()));
  shadowplane::agent::v1::ListInstancesResponse response;
  {
    grpc::ClientContext context;
    grpc::Status status = stub->ListInstances(&context, {}, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_TRUE(absl::StrContains(status.error_message(), kAgentProtocolMetadataKey));
  }
  {
    grpc::ClientContext context;
    context.AddMetadata(kAgentProtocolMetadataKey, "99");
    grpc::Status status = stub->ListInstances(&context, {}, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_TRUE(absl::StrContains(status.error_message(), "99")) << status.error_message();
  }
  grpc::ClientContext context;
  shadowplane::agent::v1::HelloResponse hello;
  ASSERT_TRUE(stub->Hello(&context, {}, &hello).ok());
  EXPECT_EQ(hello.max_protocol_version(), kAgentProtocolVersion);
  EXPECT_EQ(hello.location(), "lab");
  EXPECT_EQ(hello.total_capacity().millicores(), 4000);
}

TEST(AgentStartupTest, UnusableDataRootIsRefused) {
  const std::string dir = testing::MakeTempDir("sp-agent-bad");
  std::ofstream(dir + "/file") << "x";
  auto result = testing::RunToCompletion(
      {SHADOWPLANE_AGENT_BIN, absl::StrCat("--listen=127.0.0.1:", testing::FreePort()),
       absl::StrCat("--metrics_listen=127.0.0.1:", testing::FreePort()),
       "--data_root=" + dir + "/file/data", "--insecure"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(result.output, "data root " + dir + "/file/data cannot be created"))
      << result.output;
  auto bad_flag =
      testing::RunToCompletion({SHADOWPLANE_AGENT_BIN, "--instance_network=10.0.0", "--insecure"});
  EXPECT_EQ(bad_flag.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(bad_flag.output, "--instance_network")) << bad_flag.output;
  // TLS unless --insecure, and plaintext only on loopback.
  auto plain = testing::RunToCompletion(
      {SHADOWPLANE_AGENT_BIN, "--listen=127.0.0.1:50061", "--data_root=" + dir + "/data"});
  EXPECT_EQ(plain.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(plain.output, "give --tls_cert, --tls_key and --tls_ca"))
      << plain.output;
  auto everywhere = testing::RunToCompletion({SHADOWPLANE_AGENT_BIN, "--listen=0.0.0.0:50061",
                                              "--insecure", "--data_root=" + dir + "/data"});
  EXPECT_EQ(everywhere.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(everywhere.output, "--insecure is for loopback only"))
      << everywhere.output;
  auto help = testing::RunToCompletion({SHADOWPLANE_AGENT_BIN, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(help.output, "SHADOWPLANE_DATA_ROOT"));
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace shadowplane
