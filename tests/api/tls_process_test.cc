// The fleet over mutual TLS (label e2e): the server and three agents with certificates of a local
// CA made by deploy/local-ca.sh, as deploy/run.sh runs them. Reservations, shadow syncs (agent to
// agent) and write leases (agent to server, the agent known by its certificate) work; callers are
// known by a token or a client certificate; agents serve only the control plane and their peers;
// a channel checks its peer's identity; renewed certificate files are used without a restart.
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/agent_protocol.h"
#include "common/transport_security.h"
#include "gtest/gtest.h"
#include "shadowplane/agent/v1/agent.grpc.pb.h"
#include "shadowplane/agent/v1/sync.grpc.pb.h"
#include "shadowplane/agent/v1/write_lease.grpc.pb.h"
#include "shadowplane/v1/locations.grpc.pb.h"
#include "shadowplane/v1/migrations.grpc.pb.h"
#include "shadowplane/v1/sync.grpc.pb.h"
#include "support/child_process.h"
#include "support/control_plane_test.h"
#include "support/local_ca.h"

namespace shadowplane {
namespace {

namespace fs = std::filesystem;
namespace pb = shadowplane::v1;
namespace agent_pb = shadowplane::agent::v1;

class TlsProcessTest : public testing::ControlPlaneTest {
 protected:
  void SetUp() override {
    tls_ = true;
    agent_flags_ = {"--tls_reload_interval=1s"};
    ControlPlaneTest::SetUp();
  }

  // A process of the fleet, or a caller: TLS with `name`'s certificate from tls_dir_ ("server",
  // "agent-fra-1", "client-alice"); empty: no certificate.
  std::shared_ptr<const TransportSecurity> As(const std::string& name) {
    TlsFiles files;
    files.ca = tls_dir_ + "/ca.pem";
    if (!name.empty()) {
      files.cert = tls_dir_ + "/" + name + ".pem";
      files.key = tls_dir_ + "/" + name + ".key";
    }
    auto security = TransportSecurity::ForClient(files);
    EXPECT_TRUE(security.ok()) << security.status();
    return security.ok() ? *security : TransportSecurity::Insecure();
  }

  // Hello to the agent at `location` as `caller`, the agent expected to prove `identity`; each call
  // on a connection of its own.
  grpc::Status Hello(const std::string& location, const std::string& caller,
                     const std::string& identity) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto stub = agent_pb::AgentService::NewStub(
        As(caller)->Channel(agents_.at(location)->endpoint(), identity, args));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    context.AddMetadata(kAgentProtocolMetadataKey, absl::StrCat(kAgentProtocolVersion));
    agent_pb::HelloRequest request;
    agent_pb::HelloResponse response;
    return stub->Hello(&context, request, &response);
  }

  // ListLocations with the admin token, presenting `cert` (.pem, .key) as it is: no check on this
  // side, so that the server's is what decides.
  grpc::Status ListLocationsPresenting(const std::string& cert) {
    auto read = [](const std::string& path) {
      std::ifstream in(path);
      return std::string(std::istreambuf_iterator<char>(in), {});
    };
    auto provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
        read(tls_dir_ + "/ca.pem"), std::vector<grpc::experimental::IdentityKeyCertPair>{
                                        {read(cert + ".key"), read(cert + ".pem")}});
    grpc::experimental::TlsChannelCredentialsOptions options;
    options.set_certificate_provider(provider);
    options.watch_root_certs();
    options.watch_identity_key_cert_pairs();
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride(std::string(kControlPlaneIdentity));
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port_),
                                             grpc::experimental::TlsCredentials(options), args);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    context.AddMetadata("authorization", "Bearer " + caller_token_);
    pb::ListLocationsRequest request;
    pb::ListLocationsResponse response;
    return pb::LocationService::NewStub(channel)->ListLocations(&context, request, &response);
  }

  testing::RunResult Shadowctl(std::vector<std::string> args) {
    args.insert(args.begin(), {SHADOWCTL_BIN, absl::StrCat("--server=127.0.0.1:", port_)});
    return testing::RunToCompletion(args);
  }

  // A counter of an agent's /metrics (summed over its labels matching `labels`); -1 unreadable.
  double AgentCounter(const std::string& location, const std::string& name,
                      const std::string& labels) {
    httplib::Client client("127.0.0.1", agents_.at(location)->metrics_port());
    auto res = client.Get("/metrics");
    if (!res || res->status != 200) return -1;
    double sum = 0;
    for (absl::string_view line : absl::StrSplit(res->body, '\n')) {
      if (!absl::StartsWith(line, name + "{") || !absl::StrContains(line, labels)) continue;
      double v = 0;
      if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &v)) sum += v;
    }
    return sum;
  }
};

TEST_F(TlsProcessTest, TheFleetWorksOverMutualTls) {
  pb::Reservation r;
  grpc::Status s = Reserve(Request("tls-1"), &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(r.state(), "active") << r.error();
  ASSERT_FALSE(r.shadow().location().empty());

  // A shadow sync: the shadow's agent pulls from the primary's, each proving its location. The
  // scheduler syncs a new shadow at once, and SyncNow answers ABORTED while that round runs: try
  // again.
  pb::SyncNowRequest now;
  now.set_reservation_id(r.id());
  now.set_full(true);
  pb::SyncRun run;
  for (int i = 0; i < 50; ++i) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + caller_token_);
    s = sync_->SyncNow(&context, now, &run);
    if (s.error_code() != grpc::StatusCode::ABORTED) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(run.result(), "ok") << run.error();
  EXPECT_GE(run.files_total(), 2);

  // The primary's agent renews its write lease with the server as agent:<location>, known by its
  // certificate alone (it has no token).
  const std::string primary = r.primary().location();
  double granted = 0;
  for (int i = 0; i < 100 && granted <= 0; ++i) {
    granted = AgentCounter(primary, "shadowplane_agent_write_lease_renewals_total",
                           "verdict=\"granted\"");
    if (granted <= 0) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_GT(granted, 0) << server_->Output();

  // A planned migration to the shadow's location: pre-copy, cutover and the old primary retired,
  // every call between server and agents and between agents over mutual TLS.
  auto migrations = pb::MigrationService::NewStub(channel_);
  grpc::ClientContext migrate_context;
  migrate_context.AddMetadata("authorization", "Bearer " + caller_token_);
  migrate_context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  pb::MigrateRequest migrate;
  migrate.set_request_id("tls-move-1");
  migrate.set_reservation_id(r.id());
  migrate.set_target_location(r.shadow().location());
  migrate.set_reason("moved over TLS");
  pb::Migration m;
  s = migrations->Migrate(&migrate_context, migrate, &m);
  ASSERT_TRUE(s.ok()) << s.error_message();
  // OBSERVING: moved, and the move is being judged against its forecast (DONE after that).
  auto moved_or_ended = [&] {
    return m.state() == "OBSERVING" || m.state() == "DONE" || m.state() == "FAILED" ||
           m.state() == "ROLLED_BACK";
  };
  for (int i = 0; i < 600 && !moved_or_ended(); ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    grpc::ClientContext get_context;
    get_context.AddMetadata("authorization", "Bearer " + caller_token_);
    pb::GetMigrationRequest get;
    get.set_id(m.id());
    ASSERT_TRUE(migrations->GetMigration(&get_context, get, &m).ok());
  }
  ASSERT_TRUE(m.state() == "OBSERVING" || m.state() == "DONE")
      << m.state() << ": " << m.error() << "\n"
      << server_->Output();
  pb::Reservation moved;
  ASSERT_TRUE(GetReservation(r.id(), &moved).ok());
  EXPECT_EQ(moved.primary().location(), r.shadow().location());
}

TEST_F(TlsProcessTest, CallersAreKnownByATokenOrACertificate) {
  const std::string ca = "--ca=" + tls_dir_ + "/ca.pem";
  const std::string token_file = root_ + "/admin.token";
  std::ofstream(token_file) << caller_token_ << "\n";
  fs::permissions(token_file, fs::perms::owner_read | fs::perms::owner_write);

  testing::RunResult r = Shadowctl({ca, "--token_file=" + token_file, "locations", "list"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "sin-1")) << r.output;
  r = Shadowctl({ca, "locations", "list"});
  EXPECT_TRUE(absl::StrContains(r.output, "UNAUTHENTICATED")) << r.output;
  const std::string wrong_file = root_ + "/wrong.token";
  std::ofstream(wrong_file) << "not-a-token-the-server-knows\n";
  fs::permissions(wrong_file, fs::perms::owner_read | fs::perms::owner_write);
  r = Shadowctl({ca, "--token_file=" + wrong_file, "locations", "list"});
  EXPECT_TRUE(absl::StrContains(r.output, "UNAUTHENTICATED")) << r.output;
  // An expired certificate (valid for no time at all), or one another CA signed, gets no
  // handshake, whatever token comes with it.
  ASSERT_TRUE(testing::MakeLocalCa(tls_dir_, {}, {"expired"}, /*valid_days=*/0).ok());
  ASSERT_TRUE(testing::MakeLocalCa(root_ + "/other-ca", {}, {"alice"}).ok());
  absl::SleepFor(absl::Seconds(1));
  for (const std::string& cert : {tls_dir_ + "/client-expired", root_ + "/other-ca/client-alice"}) {
    // shadowctl itself refuses to present it, saying why...
    r = Shadowctl({ca, "--cert=" + cert + ".pem", "--key=" + cert + ".key",
                   "--token_file=" + token_file, "locations", "list"});
    EXPECT_EQ(r.exit_code, 2) << cert << ": " << r.output;
    EXPECT_TRUE(absl::StrContains(r.output, "does not verify against the CA")) << r.output;
    // ...and the server refuses the handshake of a client that presents it anyway.
    const grpc::Status s = ListLocationsPresenting(cert);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << cert << ": " << s.error_message();
  }
  EXPECT_TRUE(ListLocationsPresenting(tls_dir_ + "/client-alice").ok());
  // alice's certificate makes her a viewer: she reads, she cannot cordon.
  const std::vector<std::string> alice = {ca, "--cert=" + tls_dir_ + "/client-alice.pem",
                                          "--key=" + tls_dir_ + "/client-alice.key"};
  std::vector<std::string> args = alice;
  args.insert(args.end(), {"locations", "list"});
  r = Shadowctl(args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  args = alice;
  args.insert(args.end(), {"locations", "cordon", "fra-1"});
  r = Shadowctl(args);
  EXPECT_TRUE(absl::StrContains(r.output, "PERMISSION_DENIED")) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "alice is viewer")) << r.output;
  // Plaintext, an unknown CA and a server name its certificate lacks all fail, and say what to try.
  r = Shadowctl({"--insecure", "--token_file=" + token_file, "locations", "list"});
  EXPECT_TRUE(absl::StrContains(r.output, "UNAVAILABLE")) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "a TLS server needs --ca")) << r.output;
  r = Shadowctl({ca, "--tls_server_name=impostor.example", "--token_file=" + token_file,
                 "locations", "list"});
  EXPECT_TRUE(absl::StrContains(r.output, "UNAVAILABLE")) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "--tls_server_name")) << r.output;
  r = Shadowctl({"--ca=" + tls_dir_ + "/server.pem", "--cert=" + tls_dir_ + "/client-alice.pem",
                 "locations", "list"});
  EXPECT_EQ(r.exit_code, 2) << r.output;  // a certificate without its key
  EXPECT_TRUE(absl::StrContains(r.output, "--cert and --key")) << r.output;
}

TEST_F(TlsProcessTest, AgentsServeOnlyTheControlPlaneAndTheirPeers) {
  const std::string fra = AgentIdentity("fra-1");
  EXPECT_TRUE(Hello("fra-1", "server", fra).ok());
  // A caller's certificate, or a peer agent's, does not manage instances.
  grpc::Status s = Hello("fra-1", "client-alice", fra);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_TRUE(absl::StrContains(s.error_message(), "alice")) << s.error_message();
  s = Hello("fra-1", "agent-iad-1", fra);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  // No certificate: no handshake.
  EXPECT_EQ(Hello("fra-1", "", fra).error_code(), grpc::StatusCode::UNAVAILABLE);
  // A location's endpoint that leads to another location's agent is refused by the caller.
  EXPECT_EQ(Hello("fra-1", "server", AgentIdentity("iad-1")).error_code(),
            grpc::StatusCode::UNAVAILABLE);

  // What anyone reaching an agent's port could do before, tried with a caller's certificate:
  // create an instance seeded from /etc, sync into a primary, deactivate one, repoint its writes.
  auto as_alice = [&](auto call) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = As("client-alice")->Channel(agents_.at("fra-1")->endpoint(), fra, args);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    context.AddMetadata(kAgentProtocolMetadataKey, absl::StrCat(kAgentProtocolVersion));
    return call(channel, context);
  };
  std::vector<grpc::Status> attacks;
  attacks.push_back(as_alice([](auto channel, grpc::ClientContext& context) {
    agent_pb::CreateInstanceRequest request;
    request.set_instance_id("stolen");
    request.set_read_only(true);
    request.set_seed_dir("/etc");
    request.mutable_capacity()->set_millicores(100);
    request.mutable_capacity()->set_memory_mib(64);
    agent_pb::Instance out;
    return agent_pb::AgentService::NewStub(channel)->CreateInstance(&context, request, &out);
  }));
  attacks.push_back(as_alice([](auto channel, grpc::ClientContext& context) {
    agent_pb::DeactivateInstanceRequest request;
    request.set_instance_id("any");
    agent_pb::Instance out;
    return agent_pb::AgentService::NewStub(channel)->DeactivateInstance(&context, request, &out);
  }));
  attacks.push_back(as_alice([](auto channel, grpc::ClientContext& context) {
    agent_pb::SetWriteRoutingRequest request;
    request.set_instance_id("any");
    agent_pb::Instance out;
    return agent_pb::AgentService::NewStub(channel)->SetWriteRouting(&context, request, &out);
  }));
  attacks.push_back(as_alice([](auto channel, grpc::ClientContext& context) {
    agent_pb::SyncFromRequest request;
    request.set_source_endpoint("127.0.0.1:1");
    request.set_source_location("iad-1");
    request.set_source_instance_id("a");
    request.set_target_instance_id("b");
    request.set_mode(agent_pb::CHECKSUM);
    agent_pb::SyncFromResponse out;
    return agent_pb::SyncService::NewStub(channel)->SyncFrom(&context, request, &out);
  }));
  for (const grpc::Status& attack : attacks) {
    EXPECT_EQ(attack.error_code(), grpc::StatusCode::PERMISSION_DENIED) << attack.error_message();
  }
}

// An agent's certificate is its identity at the server: it renews leases for its own location
// only, and reads nothing else.
TEST_F(TlsProcessTest, AnAgentCertificateSpeaksForItsOwnLocationOnly) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel =
      As("agent-iad-1")
          ->Channel(absl::StrCat("127.0.0.1:", port_), std::string(kControlPlaneIdentity), args);
  auto renew = [&](const std::string& location) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    agent_pb::RenewWriteLeasesRequest request;
    request.set_location(location);
    agent_pb::RenewWriteLeasesResponse response;
    return agent_pb::WriteLeaseService::NewStub(channel)->RenewWriteLeases(&context, request,
                                                                           &response);
  };
  grpc::Status s = renew("iad-1");
  EXPECT_TRUE(s.ok()) << s.error_message();
  s = renew("fra-1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  grpc::ClientContext context;
  pb::ListLocationsRequest list;
  pb::ListLocationsResponse locations;
  s = pb::LocationService::NewStub(channel)->ListLocations(&context, list, &locations);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
}

TEST_F(TlsProcessTest, RenewedCertificateFilesAreUsedWithoutARestart) {
  // fra-1's agent is given iad-1's certificate (renamed into place, as a renewal would be): within
  // its reload interval (1s here) new connections see the new identity.
  for (const char* ext : {".key", ".pem"}) {
    fs::copy_file(tls_dir_ + "/agent-iad-1" + ext, tls_dir_ + "/agent-fra-1" + ext + ".new");
    fs::rename(tls_dir_ + "/agent-fra-1" + ext + ".new", tls_dir_ + "/agent-fra-1" + ext);
  }
  bool renewed = false;
  for (int i = 0; i < 100 && !renewed; ++i) {
    renewed = Hello("fra-1", "server", AgentIdentity("iad-1")).ok();
    if (!renewed) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(renewed);
  EXPECT_EQ(Hello("fra-1", "server", AgentIdentity("fra-1")).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace shadowplane
