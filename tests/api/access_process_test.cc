// The access check on a running server (label pg): with --tokens_file, every method the server
// serves (read from the .proto files) is called with no token, an unknown token, and a token of
// each role, and answers as the policy below says: UNAUTHENTICATED without a known caller,
// PERMISSION_DENIED for a role below the method's (or the request's: emergency and forced moves,
// planner settings), and something else (the call went through to its handler) otherwise. The
// policy is written out here on its own, not read from the rule table it checks. shadowctl
// authenticates with --token_file and SHADOWPLANE_TOKEN; refusals are counted.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "api/access/token_store.h"
#include "common/fault_point.h"
#include "gtest/gtest.h"
#include "shadowplane/agent/v1/write_lease.grpc.pb.h"
#include "shadowplane/v1/audit.grpc.pb.h"
#include "shadowplane/v1/locations.grpc.pb.h"
#include "shadowplane/v1/migrations.pb.h"
#include "shadowplane/v1/reservations.grpc.pb.h"
#include "support/child_process.h"
#include "support/served_methods.h"
#include "support/server_client.h"
#include "support/test_database.h"

namespace shadowplane {
namespace {

// The least role of each method ("Service/Method" without the package); "open" for anyone,
// "agent" for agents and admins only.
const std::map<std::string, std::string>& Policy() {
  static const auto* policy = new std::map<std::string, std::string>{
      {"Health/Check", "open"},
      {"Health/Watch", "open"},
      {"ServerReflection/ServerReflectionInfo", "open"},
      {"ServerService/GetServerInfo", "viewer"},
      {"ReservationService/Reserve", "operator"},
      {"ReservationService/GetReservation", "viewer"},
      {"ReservationService/ListReservations", "viewer"},
      {"ReservationService/UpdateReservation", "operator"},
      {"ReservationService/Release", "operator"},
      {"MigrationService/Migrate", "operator"},
      {"MigrationService/GetMigration", "viewer"},
      {"MigrationService/ListMigrations", "viewer"},
      {"MigrationService/CancelMigration", "operator"},
      {"MigrationService/WatchMigration", "viewer"},
      {"PlannerService/Plan", "viewer"},
      {"PlannerService/ListDecisions", "viewer"},
      {"PlannerService/GetDecision", "viewer"},
      {"PlannerService/ApplyDecision", "operator"},
      {"PlannerService/Pause", "admin"},
      {"PlannerService/Resume", "admin"},
      {"PlannerService/GetPlannerStatus", "viewer"},
      {"PlannerService/GetCalibration", "viewer"},
      {"LocationService/UpsertRegion", "admin"},
      {"LocationService/GetRegion", "viewer"},
      {"LocationService/ListRegions", "viewer"},
      {"LocationService/DeleteRegion", "admin"},
      {"LocationService/UpsertLocation", "admin"},
      {"LocationService/GetLocation", "viewer"},
      {"LocationService/ListLocations", "viewer"},
      {"LocationService/DeleteLocation", "admin"},
      {"LocationService/Cordon", "admin"},
      {"LocationService/Uncordon", "admin"},
      {"LocationService/DrainLocation", "admin"},
      {"LocationService/GetLocationDrain", "viewer"},
      {"LocationService/UncordonLocation", "admin"},
      {"LocationService/ReportPrices", "admin"},
      {"LocationService/ReportSpotInterruption", "admin"},
      {"EventService/RegisterEvent", "operator"},
      {"EventService/GetEvent", "viewer"},
      {"EventService/ListEvents", "viewer"},
      {"EventService/DeleteEvent", "operator"},
      {"ForecastService/Predict", "viewer"},
      {"ForecastService/Backtest", "viewer"},
      {"SyncService/SyncNow", "operator"},
      {"SyncService/ListSyncRuns", "viewer"},
      {"TelemetryService/RecordAccess", "operator+agent"},
      {"TelemetryService/RecordAccessBatch", "operator+agent"},
      {"TelemetryService/GetDemand", "viewer"},
      {"WriteLeaseService/RenewWriteLeases", "agent"},
      {"AuditService/ListAuditEvents", "admin"},
  };
  return *policy;
}

// Whether `role` ("" for no caller) may call a method of `least` role.
bool Allowed(const std::string& least, const std::string& role) {
  if (least == "open") return true;
  if (role.empty()) return false;
  if (role == "agent") return absl::StrContains(least, "agent");
  static const std::map<std::string, int> rank = {
      {"viewer", 1}, {"operator", 2}, {"admin", 3}, {"operator+agent", 2}, {"agent", 3}};
  return static_cast<int>(rank.at(role)) >= rank.at(least);
}

// Any method, by name, with a serialized request: the status it ends with (a stream that
// answers is cancelled after its first answer: it went through).
grpc::Status CallAny(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                     const std::string& request, const std::string& token) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&context, method, &cq);
  void* tag;
  bool ok;
  auto step = [&](intptr_t t) {
    EXPECT_TRUE(cq.Next(&tag, &ok));
    EXPECT_EQ(reinterpret_cast<intptr_t>(tag), t);
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  step(1);
  grpc::Slice slice(request);
  grpc::ByteBuffer buffer(&slice, 1);
  call->Write(buffer, reinterpret_cast<void*>(2));
  step(2);
  call->WritesDone(reinterpret_cast<void*>(3));
  step(3);
  grpc::ByteBuffer answer;
  call->Read(&answer, reinterpret_cast<void*>(4));
  if (step(4)) context.TryCancel();
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  return status;
}

class AccessProcessTest : public testing::DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    if (HasFatalFailure()) return;
    dir_ = testing::MakeTempDir("sp-access");
    std::string tokens = "tokens:\n";
    for (const char* role : {"viewer", "operator", "admin"}) {
      absl::StrAppend(&tokens, "  - {name: test-", role, ", role: ", role, ", team: team-a, ",
                      "sha256: ", api::access::TokenHash(TokenOf(role)), "}\n");
    }
    absl::StrAppend(&tokens, "  - {name: \"agent:fra-1\", role: agent, location: fra-1, sha256: ",
                    api::access::TokenHash(TokenOf("agent")), "}\n");
    std::ofstream(dir_ + "/tokens.yaml") << tokens;
    chmod((dir_ + "/tokens.yaml").c_str(), 0600);
    std::ofstream(dir_ + "/locations.yaml")
        << "regions:\n  - {name: eu-central, latitude: 50.11, longitude: 8.68}\n";
    port_ = testing::FreePort();
    metrics_port_ = testing::FreePort();
    argv_ = {SHADOWPLANE_BIN,
             absl::StrCat("--listen=127.0.0.1:", port_),
             absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port_),
             "--database_url=" + db_->url(),
             "--locations_file=" + dir_ + "/locations.yaml",
             "--tokens_file=" + dir_ + "/tokens.yaml"};
    server_ = testing::StartServingServer(argv_, port_);
    ASSERT_NE(server_, nullptr);
    channel_ = testing::ServerClient(port_).channel();
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static std::string TokenOf(const std::string& role) { return "token-of-the-" + role; }

  std::string dir_;
  std::vector<std::string> argv_;  // the server's command line
  int port_ = 0, metrics_port_ = 0;
  std::unique_ptr<testing::ChildProcess> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(AccessProcessTest, EveryMethodAnswersEachCallerAsThePolicySays) {
  const std::set<std::string> methods = testing::ServedMethods(SHADOWPLANE_SOURCE_DIR);
  int checked = 0, refused = 0;
  for (const std::string& method : methods) {
    const std::string short_name = method.substr(method.rfind('.') + 1);
    const auto policy = Policy().find(short_name);
    ASSERT_NE(policy, Policy().end()) << method << " is not in this test's policy";
    for (const std::string role : {"", "unknown", "viewer", "operator", "admin", "agent"}) {
      const std::string token = role.empty() ? "" : TokenOf(role);
      const grpc::Status status = CallAny(channel_, method, "", token);
      const std::string who = role.empty() ? "no token" : role;
      ++checked;
      if (!Allowed(policy->second, role == "unknown" ? "" : role)) {
        ++refused;
        const grpc::StatusCode want = (role.empty() || role == "unknown")
                                          ? grpc::StatusCode::UNAUTHENTICATED
                                          : grpc::StatusCode::PERMISSION_DENIED;
        EXPECT_EQ(status.error_code(), want)
            << method << " as " << who << ": " << status.error_message();
      } else {
        EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
            << method << " as " << who << ": " << status.error_message();
        EXPECT_NE(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << method << " as " << who << ": " << status.error_message();
      }
    }
  }
  EXPECT_EQ(checked, static_cast<int>(methods.size()) * 6);
  EXPECT_GT(refused, 100);

  // Requests that ask for more: an operator may move planned, not in an emergency or by force,
  // and may not set the planner; an admin may.
  auto as_bytes = [](const google::protobuf::Message& m) { return m.SerializeAsString(); };
  shadowplane::v1::MigrateRequest emergency;
  emergency.set_reservation_id("00000000-0000-0000-0000-000000000000");
  emergency.set_kind("emergency");
  shadowplane::v1::MigrateRequest forced;
  forced.set_reservation_id("00000000-0000-0000-0000-000000000000");
  forced.set_force(true);
  shadowplane::v1::UpdateReservationRequest planner;
  planner.set_id("00000000-0000-0000-0000-000000000000");
  planner.mutable_planner()->set_mode("auto");
  shadowplane::v1::ReserveRequest reserve;
  reserve.mutable_planner()->set_mode("auto");
  for (const auto& [method, request] : std::vector<std::pair<std::string, std::string>>{
           {"/shadowplane.v1.MigrationService/Migrate", as_bytes(emergency)},
           {"/shadowplane.v1.MigrationService/Migrate", as_bytes(forced)},
           {"/shadowplane.v1.ReservationService/UpdateReservation", as_bytes(planner)},
           {"/shadowplane.v1.ReservationService/Reserve", as_bytes(reserve)}}) {
    const grpc::Status as_operator = CallAny(channel_, method, request, TokenOf("operator"));
    EXPECT_EQ(as_operator.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << method << ": " << as_operator.error_message();
    EXPECT_TRUE(absl::StrContains(as_operator.error_message(), "needs the role admin"))
        << as_operator.error_message();
    const grpc::Status as_admin = CallAny(channel_, method, request, TokenOf("admin"));
    EXPECT_NE(as_admin.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << method << ": " << as_admin.error_message();
  }

  // An agent renews its own location's leases, not another's.
  shadowplane::agent::v1::RenewWriteLeasesRequest own, other;
  own.set_location("fra-1");
  other.set_location("sin-1");
  auto leases = shadowplane::agent::v1::WriteLeaseService::NewStub(channel_);
  auto renew = [&](const shadowplane::agent::v1::RenewWriteLeasesRequest& request) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + TokenOf("agent"));
    shadowplane::agent::v1::RenewWriteLeasesResponse response;
    return leases->RenewWriteLeases(&context, request, &response);
  };
  const grpc::Status own_status = renew(own);
  EXPECT_TRUE(own_status.ok()) << own_status.error_message();
  const grpc::Status other_status = renew(other);
  EXPECT_EQ(other_status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << other_status.error_message();

  // Not even an admin points a location's agent at a local socket or a URL.
  auto locations = shadowplane::v1::LocationService::NewStub(channel_);
  for (const char* endpoint : {"unix:/var/run/docker.sock", "http://evil.example:80"}) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + TokenOf("admin"));
    shadowplane::v1::UpsertLocationRequest upsert;
    shadowplane::v1::Location* l = upsert.mutable_location();
    l->set_name("fra-1");
    l->set_region("eu-central");
    l->set_agent_endpoint(endpoint);
    shadowplane::v1::Location stored;
    const grpc::Status s = locations->UpsertLocation(&context, upsert, &stored);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << endpoint;
    EXPECT_TRUE(absl::StrContains(s.error_message(), "agent_endpoint")) << s.error_message();
  }

  // Counted, and the tokens never logged.
  httplib::Client metrics("127.0.0.1", metrics_port_);
  auto scraped = metrics.Get("/metrics");
  ASSERT_TRUE(scraped && scraped->status == 200);
  EXPECT_FALSE(absl::StrContains(scraped->body,
                                 "shadowplane_access_denied_total{code=\"unauthenticated\"} 0"))
      << scraped->body;
  EXPECT_FALSE(absl::StrContains(server_->Output(), "token-of-the-"));
  EXPECT_TRUE(absl::StrContains(server_->Output(), "call refused"));
}

TEST_F(AccessProcessTest, ShadowctlSendsItsTokenFromAFileOrTheEnvironment) {
  const std::string server = absl::StrCat("--server=127.0.0.1:", port_);
  testing::RunResult none =
      testing::RunToCompletion({SHADOWCTL_BIN, server, "--insecure", "locations", "list"});
  EXPECT_NE(none.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(none.output, "UNAUTHENTICATED")) << none.output;

  const std::string file = dir_ + "/viewer.token";
  std::ofstream(file) << TokenOf("viewer") << "\n";
  chmod(file.c_str(), 0600);
  testing::RunResult viewer = testing::RunToCompletion(
      {SHADOWCTL_BIN, server, "--insecure", "--token_file=" + file, "locations", "list"});
  EXPECT_EQ(viewer.exit_code, 0) << viewer.output;
  testing::RunResult cordon =
      testing::RunToCompletion({SHADOWCTL_BIN, server, "--insecure", "--token_file=" + file,
                                "locations", "cordon", "fra-1"});
  EXPECT_NE(cordon.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(cordon.output, "PERMISSION_DENIED")) << cordon.output;

  testing::RunResult env =
      testing::RunToCompletion({SHADOWCTL_BIN, server, "--insecure", "locations", "list"},
                               {"SHADOWPLANE_TOKEN=" + TokenOf("viewer")});
  EXPECT_EQ(env.exit_code, 0) << env.output;

  // A token file others may read is refused before anything is sent.
  chmod(file.c_str(), 0644);
  testing::RunResult open = testing::RunToCompletion(
      {SHADOWCTL_BIN, server, "--insecure", "--token_file=" + file, "locations", "list"});
  EXPECT_NE(open.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(open.output, "chmod o-rw")) << open.output;
}

// The audit trail: changes and refused attempts at them, with who, what and how it ended; reads
// are not written; only an admin reads it; a hostile name is stored as it came (but for NUL).
TEST_F(AccessProcessTest, TheAuditTrailRecordsChangesAndRefusalsForAdminsToRead) {
  const std::string unknown = "00000000-0000-0000-0000-00000000abcd";
  auto reservations = shadowplane::v1::ReservationService::NewStub(channel_);
  auto call = [](const std::string& token) {
    auto context = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
    return context;
  };
  shadowplane::v1::ReleaseRequest release;
  release.set_id(unknown);
  shadowplane::v1::Reservation out;
  EXPECT_EQ(reservations->Release(call(TokenOf("operator")).get(), release, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(reservations->Release(call(TokenOf("viewer")).get(), release, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(reservations->Release(call("").get(), release, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  shadowplane::v1::GetReservationRequest get;
  get.set_id(unknown);
  EXPECT_EQ(reservations->GetReservation(call(TokenOf("viewer")).get(), get, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  auto locations = shadowplane::v1::LocationService::NewStub(channel_);
  shadowplane::v1::UpsertRegionRequest region;
  const std::string hostile(
      "a\0b\"c\\d\x01"
      "e",
      9);
  region.mutable_region()->set_name(hostile);
  shadowplane::v1::Region made;
  (void)locations->UpsertRegion(call(TokenOf("admin")).get(), region, &made);

  auto audit = shadowplane::v1::AuditService::NewStub(channel_);
  shadowplane::v1::ListAuditEventsRequest list;
  list.set_method("Release");
  shadowplane::v1::ListAuditEventsResponse rows;
  EXPECT_EQ(audit->ListAuditEvents(call(TokenOf("operator")).get(), list, &rows).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Written right after each call, off its thread: asked until all three are there.
  for (const absl::Time deadline = absl::Now() + absl::Seconds(10); absl::Now() < deadline;) {
    rows.Clear();
    ASSERT_TRUE(audit->ListAuditEvents(call(TokenOf("admin")).get(), list, &rows).ok());
    if (rows.events_size() >= 3) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(rows.events_size(), 3);
  // Newest first: the anonymous attempt, the viewer's, the operator's.
  EXPECT_EQ(rows.events(0).caller(), "anonymous");
  EXPECT_EQ(rows.events(0).code(), "UNAUTHENTICATED");
  EXPECT_EQ(rows.events(1).caller(), "test-viewer");
  EXPECT_EQ(rows.events(1).role(), "viewer");
  EXPECT_EQ(rows.events(1).code(), "PERMISSION_DENIED");
  EXPECT_EQ(rows.events(2).caller(), "test-operator");
  EXPECT_EQ(rows.events(2).code(), "NOT_FOUND");
  EXPECT_EQ(rows.events(2).method(), "/shadowplane.v1.ReservationService/Release");
  EXPECT_EQ(rows.events(2).targets().at("id"), unknown);
  EXPECT_FALSE(rows.events(2).message().empty());

  // Reads are not audited.
  shadowplane::v1::ListAuditEventsRequest reads;
  reads.set_method("GetReservation");
  rows.Clear();
  ASSERT_TRUE(audit->ListAuditEvents(call(TokenOf("admin")).get(), reads, &rows).ok());
  EXPECT_EQ(rows.events_size(), 0);

  // The hostile name, stored as it came but for the NUL.
  shadowplane::v1::ListAuditEventsRequest upserts;
  upserts.set_method("UpsertRegion");
  for (const absl::Time deadline = absl::Now() + absl::Seconds(10); absl::Now() < deadline;) {
    rows.Clear();
    ASSERT_TRUE(audit->ListAuditEvents(call(TokenOf("admin")).get(), upserts, &rows).ok());
    if (rows.events_size() >= 1) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(rows.events_size(), 1);
  EXPECT_EQ(rows.events(0).targets().at("region.name"),
            "a\xEF\xBF\xBD"
            "b\"c\\d\x01"
            "e");

  // Paged, and bad requests refused naming the field.
  shadowplane::v1::ListAuditEventsRequest page;
  page.set_page_size(2);
  rows.Clear();
  ASSERT_TRUE(audit->ListAuditEvents(call(TokenOf("admin")).get(), page, &rows).ok());
  ASSERT_EQ(rows.events_size(), 2);
  ASSERT_FALSE(rows.next_page_token().empty());
  page.set_page_token(rows.next_page_token());
  shadowplane::v1::ListAuditEventsResponse next;
  ASSERT_TRUE(audit->ListAuditEvents(call(TokenOf("admin")).get(), page, &next).ok());
  ASSERT_GE(next.events_size(), 1);
  EXPECT_LT(next.events(0).id(), rows.events(1).id());
  page.set_page_token("x");
  grpc::Status bad = audit->ListAuditEvents(call(TokenOf("admin")).get(), page, &next);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(bad.error_message(), "page_token")) << bad.error_message();
  page.set_page_token("");
  *page.mutable_from() = google::protobuf::util::TimeUtil::SecondsToTimestamp(2'000'000'000);
  *page.mutable_to() = google::protobuf::util::TimeUtil::SecondsToTimestamp(1'000'000'000);
  bad = audit->ListAuditEvents(call(TokenOf("admin")).get(), page, &next);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(bad.error_message(), "to must be after from"))
      << bad.error_message();
  page.clear_from();
  page.clear_to();
  page.set_page_size(5000);
  bad = audit->ListAuditEvents(call(TokenOf("admin")).get(), page, &next);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(bad.error_message(), "page_size")) << bad.error_message();

  // shadowctl shows it to an admin.
  const std::string file = dir_ + "/admin.token";
  std::ofstream(file) << TokenOf("admin");
  chmod(file.c_str(), 0600);
  testing::RunResult shown = testing::RunToCompletion(
      {SHADOWCTL_BIN, absl::StrCat("--server=127.0.0.1:", port_), "--insecure",
       "--token_file=" + file, "audit", "list", "--method=Release"});
  EXPECT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_TRUE(absl::StrContains(shown.output, "test-operator")) << shown.output;
  EXPECT_TRUE(absl::StrContains(shown.output, "PERMISSION_DENIED")) << shown.output;
}

// A change's audit row is written before the change is made: a server that dies just after
// committing one (at a fault point, before it could answer) leaves the change and its row, marked
// PENDING; a change that completes has one row, with its outcome.
TEST_F(AccessProcessTest, NoChangeIsMadeWithoutItsAuditRow) {
  auto call = [](const std::string& token) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    context->AddMetadata("authorization", "Bearer " + token);
    return context;
  };
  auto upsert = [&](const std::string& name) {
    shadowplane::v1::UpsertRegionRequest request;
    request.mutable_region()->set_name(name);
    request.mutable_region()->set_latitude(60);
    request.mutable_region()->set_longitude(10);
    shadowplane::v1::Region made;
    return shadowplane::v1::LocationService::NewStub(testing::ServerClient(port_).channel())
        ->UpsertRegion(call(TokenOf("admin")).get(), request, &made);
  };
  server_.reset();
  server_ = testing::StartServingServer(
      argv_, port_, {std::string(kFaultPointEnv) + "=api.upsert_region.after_commit"});
  ASSERT_NE(server_, nullptr);
  EXPECT_FALSE(upsert("audited-north").ok()) << "the server died before it answered";
  server_.reset();
  server_ = testing::StartServingServer(argv_, port_);
  ASSERT_NE(server_, nullptr);

  auto locations =
      shadowplane::v1::LocationService::NewStub(testing::ServerClient(port_).channel());
  shadowplane::v1::GetRegionRequest get;
  get.set_name("audited-north");
  shadowplane::v1::Region region;
  ASSERT_TRUE(locations->GetRegion(call(TokenOf("viewer")).get(), get, &region).ok())
      << "the change was committed";
  auto audit = shadowplane::v1::AuditService::NewStub(testing::ServerClient(port_).channel());
  shadowplane::v1::ListAuditEventsRequest list;
  list.set_method("UpsertRegion");
  shadowplane::v1::ListAuditEventsResponse rows;
  ASSERT_TRUE(audit->ListAuditEvents(call(TokenOf("admin")).get(), list, &rows).ok());
  ASSERT_EQ(rows.events_size(), 1);
  EXPECT_EQ(rows.events(0).code(), "PENDING");
  EXPECT_EQ(rows.events(0).caller(), "test-admin");
  EXPECT_EQ(rows.events(0).targets().at("region.name"), "audited-north");

  // Completed: the same row gets the outcome (one row per call, not two).
  ASSERT_TRUE(upsert("audited-south").ok());
  for (const absl::Time deadline = absl::Now() + absl::Seconds(10); absl::Now() < deadline;) {
    rows.Clear();
    ASSERT_TRUE(audit->ListAuditEvents(call(TokenOf("admin")).get(), list, &rows).ok());
    if (rows.events_size() == 2 && rows.events(0).code() == "OK") break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(rows.events_size(), 2);
  EXPECT_EQ(rows.events(0).code(), "OK");
  EXPECT_EQ(rows.events(0).targets().at("region.name"), "audited-south");
  EXPECT_EQ(rows.events(1).code(), "PENDING");
}

}  // namespace
}  // namespace shadowplane
