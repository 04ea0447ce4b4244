#include "support/control_plane_test.h"

#include <httplib.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "support/local_ca.h"
#include "support/server_client.h"

namespace shadowplane::testing {

namespace fs = std::filesystem;
namespace pb = shadowplane::v1;

void ControlPlaneTest::SetUp() {
  DatabaseTest::SetUp();
  if (HasFatalFailure()) return;
  root_ = MakeTempDir("sp-reserve");
  seed_ = root_ + "/seed";
  fs::create_directories(seed_ + "/docs");
  std::ofstream(seed_ + "/index.html") << "<h1>hello</h1>";
  std::ofstream(seed_ + "/docs/readme.txt") << "read me";
  std::string yaml = "regions:\n";
  for (const Site& s : kSites) {
    absl::StrAppend(&yaml, "  - {name: ", s.region, ", latitude: ", s.latitude,
                    ", longitude: ", s.longitude, "}\n");
  }
  yaml += "locations:\n";
  port_ = FreePort();
  metrics_port_ = FreePort();
  client_transport_ = TransportSecurity::Insecure();
  if (tls_) {
    tls_dir_ = root_ + "/tls";
    ASSERT_TRUE(MakeLocalCa(tls_dir_, {"fra-1", "iad-1", "sin-1"}, {"alice"}).ok());
    caller_token_ = "control-plane-test-admin";
    std::ofstream(root_ + "/tokens.yaml")
        << "tokens:\n  - {name: test-admin, role: admin, sha256: " << TokenSha256(caller_token_)
        << "}\n"
        << "  - {name: alice, role: viewer, certificate: alice}\n"
        << tokens_yaml_tail_;
    fs::permissions(root_ + "/tokens.yaml", fs::perms::owner_read | fs::perms::owner_write);
    TlsFiles files;
    files.ca = tls_dir_ + "/ca.pem";
    auto transport = TransportSecurity::ForClient(files);
    ASSERT_TRUE(transport.ok()) << transport.status();
    client_transport_ = *transport;
  }
  for (const Site& s : kSites) {
    // Ports are picked free a moment before the agent binds them, and a test running beside
    // this one may take one first: a failed start is tried again on fresh ports.
    std::unique_ptr<AgentUnderTest> agent;
    absl::Status started = absl::UnknownError("not started");
    for (int attempt = 0; attempt < 3 && !started.ok(); ++attempt) {
      agent = std::make_unique<AgentUnderTest>(SHADOWPLANE_AGENT_BIN, root_ + "/" + s.location,
                                               s.location);
      agent->set_control_plane(absl::StrCat("127.0.0.1:", port_));
      std::vector<std::string> flags = AgentFlags(s.location);
      if (tls_) {
        const std::vector<std::string> tls = AgentTlsFlags(tls_dir_, s.location);
        flags.insert(flags.end(), tls.begin(), tls.end());
      }
      agent->set_extra_flags(flags);
      started = agent->Start(std::vector<std::string>{}, absl::Seconds(15));
    }
    ASSERT_TRUE(started.ok()) << started;
    absl::StrAppend(&yaml, "  - name: ", s.location, "\n    region: ", s.region,
                    "\n    latitude: ", s.latitude, "\n    longitude: ", s.longitude,
                    "\n    agent_endpoint: ", agent->endpoint(),
                    "\n    on_demand_price_per_vcpu_hour: ", s.vcpu_price,
                    "\n    on_demand_price_per_gib_hour: 0.005\n    electricity_price_per_kwh: "
                    "0.2\n    power_draw_watts_per_vcpu: 8\n    capacity_millicores: 4000\n"
                    "    capacity_memory_mib: 4096\n");
    agents_[s.location] = std::move(agent);
  }
  std::ofstream(root_ + "/locations.yaml") << yaml << extra_catalog_yaml_;
  StartServer(server_env_);
}

std::vector<std::string> ControlPlaneTest::ServerArgv(int port, int metrics_port) const {
  std::vector<std::string> argv = {SHADOWPLANE_BIN,
                                   absl::StrCat("--listen=127.0.0.1:", port),
                                   absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port),
                                   "--database_url=" + db_->url(),
                                   "--locations_file=" + root_ + "/locations.yaml",
                                   "--reconcile_interval=300ms",
                                   "--db_check_interval=200ms",
                                   "--agent_call_timeout=3s",
                                   "--sync_tick=200ms"};
  if (tls_) {
    const std::vector<std::string> tls = ServerTlsFlags(tls_dir_);
    argv.insert(argv.end(), tls.begin(), tls.end());
    argv.push_back("--tokens_file=" + root_ + "/tokens.yaml");
  }
  argv.insert(argv.end(), extra_flags_.begin(), extra_flags_.end());
  if (!ChoosesTransport(argv)) argv.push_back("--insecure");
  return argv;
}

void ControlPlaneTest::StartServer(const std::vector<std::string>& env) {
  // A port that was free when it was chosen may be taken by a test running beside this one
  // before the server binds it: then the server exits at once, and new ports are tried.
  for (int attempt = 1;; ++attempt) {
    auto server = ChildProcess::Start(ServerArgv(port_, metrics_port_), env);
    ASSERT_TRUE(server.ok());
    server_ = *std::move(server);
    // Connecting before it listens would cost a reconnect backoff.
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    bool started = false;
    while (!started && server_->running() && absl::Now() < deadline) {
      started = server_->WaitForOutput("shadowplane started", absl::Milliseconds(200));
    }
    started = started || server_->WaitForOutput("shadowplane started", absl::ZeroDuration());
    if (!started && attempt < 3 &&
        server_->Output().find("Address already in use") != std::string::npos) {
      server_->WaitForExit(absl::Seconds(5));
      port_ = FreePort();
      metrics_port_ = FreePort();
      continue;
    }
    ASSERT_TRUE(started) << server_->Output();
    break;
  }
  Connect(port_);
}

void ControlPlaneTest::Connect(int port) {
  ServerClient client(port, client_transport_);
  ASSERT_TRUE(
      client.WaitForHealth(grpc::health::v1::HealthCheckResponse::SERVING, absl::Seconds(60)))
      << (server_ != nullptr ? server_->Output() : "");
  channel_ = client.channel();
  locations_ = pb::LocationService::NewStub(channel_);
  reservations_ = pb::ReservationService::NewStub(channel_);
  sync_ = pb::SyncService::NewStub(channel_);
  OnServerStarted();
}

void ControlPlaneTest::TearDown() {
  server_.reset();
  agents_.clear();
  std::error_code ec;
  fs::remove_all(root_, ec);
}

pb::ReserveRequest ControlPlaneTest::Request(const std::string& request_id) {
  pb::ReserveRequest r;
  r.set_request_id(request_id);
  r.set_name("web");
  r.set_millicores(1000);
  r.set_memory_mib(512);
  r.set_seed_dir(seed_);
  return r;
}

grpc::Status ControlPlaneTest::Reserve(const pb::ReserveRequest& request, pb::Reservation* out) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  if (!caller_token_.empty()) context.AddMetadata("authorization", "Bearer " + caller_token_);
  return reservations_->Reserve(&context, request, out);
}

grpc::Status ControlPlaneTest::GetReservation(const std::string& id, pb::Reservation* out) {
  grpc::ClientContext context;
  if (!caller_token_.empty()) context.AddMetadata("authorization", "Bearer " + caller_token_);
  pb::GetReservationRequest request;
  request.set_id(id);
  return reservations_->GetReservation(&context, request, out);
}

std::string ControlPlaneTest::Fetch(const std::string& endpoint, const std::string& path,
                                    int* status) {
  int port = 0;
  absl::SimpleAtoi(endpoint.substr(endpoint.rfind(':') + 1), &port);
  httplib::Client client(endpoint.substr(0, endpoint.rfind(':')), port);
  client.set_connection_timeout(2);
  auto res = client.Get(path.c_str());
  // An instance limits its request rate by capacity (429): a test reading many files waits.
  for (int i = 0; i < 100 && res && res->status == 429; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    res = client.Get(path.c_str());
  }
  *status = res ? res->status : -1;
  return res ? res->body : "";
}

int ControlPlaneTest::Put(const std::string& endpoint, const std::string& path,
                          const std::string& body) {
  int port = 0;
  absl::SimpleAtoi(endpoint.substr(endpoint.rfind(':') + 1), &port);
  httplib::Client client(endpoint.substr(0, endpoint.rfind(':')), port);
  auto res = client.Put(path.c_str(), body, "text/plain");
  return res ? res->status : -1;
}

}  // namespace shadowplane::testing
