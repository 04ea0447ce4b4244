// The demo (deploy/demo.sh) run briefly as a test (label e2e), on this build's binaries and ports
// of its own: two simulated days of the follow-the-sun trace, live through HAProxy at an hour
// every two seconds, with the planner in auto mode and Prometheus scraping the server and the
// agents; every gRPC call (this test's, shadowctl's, the server's to the agents, the agents' to
// the server and to each other) over mutual TLS with the demo's own CA, callers with a token. Held
// running after its summary (DEMO_HOLD), it is asked:
//   - the closed loop: at least one of the planner's moves started ahead of the demand shift it
//     was made for, as the server's own observation of the move found it (the first hour in
//     which, by realised demand and the planner's objective, the target became the cheapest
//     location: planner/realized_shift.h); the load generator saw no failed request; and the
//     accesses the control plane counted over the live part are exactly the requests sent.
//   - the dashboard (deploy/grafana/shadowplane.json): Grafana's dashboard model (schema version,
//     unique panel ids, grid positions that fit and do not overlap, the data source variable used
//     by every panel), and every panel's query, evaluated through Prometheus' HTTP API, parses,
//     returns data, reads only metrics the server or the agents expose, and hides no missing
//     series behind a constant.
// Then stopped with SIGTERM, the demo leaves nothing of its own running.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/proto_time.h"
#include "common/transport_security.h"
#include "gtest/gtest.h"
#include "shadowplane/v1/migrations.grpc.pb.h"
#include "shadowplane/v1/reservations.grpc.pb.h"
#include "shadowplane/v1/telemetry.grpc.pb.h"
#include "support/child_process.h"
#include "support/metric_names.h"
#include "support/prometheus_server.h"

namespace shadowplane {
namespace {

namespace pb = shadowplane::v1;

const std::string kSource = SHADOWPLANE_SOURCE_DIR;
const std::string kDashboard = kSource + "/deploy/grafana/shadowplane.json";
constexpr int kDemoPorts = 12;  // deploy/demo.sh, DEMO_PORT_BASE

// As a server binds (SO_REUSEADDR: connections of a stopped one in TIME_WAIT do not count).
bool CanBindPort(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  close(fd);
  return ok;
}

// The first of kDemoPorts free ports in a row.
int FreePortRun() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int base = testing::FreePort();
    bool free = base + kDemoPorts < 32768;
    for (int p = base + 1; free && p < base + kDemoPorts; ++p) free = CanBindPort(p);
    if (free) return base;
  }
  return 0;
}

google::protobuf::Struct ReadJson(const std::string& path) {
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  google::protobuf::Struct out;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &out).ok()) << path << ": " << text;
  return out;
}

double Number(const google::protobuf::Struct& s, const std::string& key) {
  const auto it = s.fields().find(key);
  return it == s.fields().end() ? -1 : it->second.number_value();
}

// What the demo printed after `label` (up to the line's end).
std::string After(const std::string& output, const std::string& label) {
  const size_t at = output.find(label);
  if (at == std::string::npos) return "";
  const size_t from = at + label.size();
  return output.substr(from, output.find('\n', from) - from);
}

class DemoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = FreePortRun();
    ASSERT_GT(base_, 0) << "no " << kDemoPorts << " free ports in a row";
    auto demo = testing::ChildProcess::Start(
        {"/bin/bash", kSource + "/deploy/demo.sh"},
        {absl::StrCat("DEMO_BIN_DIR=", SHADOWPLANE_BIN_DIR), "DEMO_HOURS=48",
         absl::StrCat("DEMO_PORT_BASE=", base_), "DEMO_HOLD=1"});
    ASSERT_TRUE(demo.ok()) << demo.status();
    demo_ = *std::move(demo);
    // Start-up, three weeks back-filled, 48 hours at two seconds each, the summary.
    ASSERT_TRUE(demo_->WaitForOutput("holding (DEMO_HOLD)", absl::Seconds(280))) << demo_->Output();
    output_ = demo_->Output();
    std::cout << output_.substr(output_.find("=== shadowplane demo: summary ===")) << std::endl;
    state_ = std::string(absl::StripAsciiWhitespace(After(output_, "State, logs: ")));
    ASSERT_FALSE(state_.empty());
    // The demo runs as deploy/run.sh does: TLS with its own CA, callers with a token.
    TlsFiles files;
    files.ca = state_ + "/tls/ca.pem";
    auto transport = TransportSecurity::ForClient(files);
    ASSERT_TRUE(transport.ok()) << transport.status();
    channel_ = (*transport)
                   ->Channel(absl::StrCat("127.0.0.1:", base_), std::string(kControlPlaneIdentity));
    std::ifstream token(state_ + "/admin.token");
    std::getline(token, token_);
    ASSERT_FALSE(token_.empty());
  }

  void TearDown() override {
    if (demo_ == nullptr) return;
    if (HasFailure() && !state_.empty()) {
      // What the planner and the forecasts did, to tell why.
      const testing::RunResult planner = testing::RunToCompletion(
          {"/bin/sh", "-c",
           "grep -E '\"(planner tick|forecast refresh|planner decision|migration)' " + state_ +
               "/server.log | tail -40"});
      std::cout << "server.log, planner and forecasts:\n" << planner.output << std::endl;
    }
    demo_->Signal(SIGTERM);
    const std::optional<int> code = demo_->WaitForExit(absl::Seconds(60));
    EXPECT_TRUE(code.has_value()) << "the demo stops within a minute of SIGTERM";
    // Everything it started is gone: its ports are free again.
    for (int p = base_; p < base_ + kDemoPorts; ++p) {
      EXPECT_TRUE(CanBindPort(p)) << "port " << p << " is still held after the demo stopped";
    }
    std::error_code ec;
    if (!state_.empty() && absl::StartsWith(state_, "/tmp/shadowplane-demo.")) {
      std::filesystem::remove_all(state_, ec);
    }
  }

  pb::Reservation Web() {
    auto stub = pb::ReservationService::NewStub(channel_);
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token_);
    pb::ListReservationsResponse list;
    EXPECT_TRUE(stub->ListReservations(&context, pb::ListReservationsRequest(), &list).ok());
    for (const pb::Reservation& r : list.reservations()) {
      if (r.name() == "web") return r;
    }
    ADD_FAILURE() << "the demo's reservation web is not there";
    return pb::Reservation();
  }

  int base_ = 0;
  std::unique_ptr<testing::ChildProcess> demo_;
  std::string output_, state_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string token_;  // the demo's admin token
};

TEST_F(DemoTest, MovesAheadOfTheDemandWithoutAFailedRequestAndEveryPanelShowsData) {
  // --- The client's side: everything sent was answered.
  const google::protobuf::Struct load = ReadJson(state_ + "/loadgen.json");
  const double sent = Number(load, "sent");
  EXPECT_GT(sent, 1000) << "the live part sent requests";
  EXPECT_EQ(Number(load, "failed"), 0) << "failed client requests";
  EXPECT_EQ(Number(load, "not_sent"), 0);
  EXPECT_EQ(Number(load, "answered"), sent);

  // --- The control plane counted every one of them (the instances' records, shipped by the
  // agents), over the hours of the live part.
  const pb::Reservation web = Web();
  const std::string live_from = After(output_, " simulated hours from ");
  google::protobuf::Timestamp from;
  ASSERT_TRUE(
      google::protobuf::util::TimeUtil::FromString(live_from.substr(0, live_from.find(' ')), &from))
      << live_from;
  auto telemetry = pb::TelemetryService::NewStub(channel_);
  double counted = -1;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(30); absl::Now() < deadline;) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token_);
    pb::GetDemandRequest request;
    request.set_resource_id(web.resource_id());
    *request.mutable_from() = from;
    pb::GetDemandResponse demand;
    ASSERT_TRUE(telemetry->GetDemand(&context, request, &demand).ok());
    counted = 0;
    for (const pb::DemandPoint& p : demand.total().points()) counted += p.requests();
    if (counted == sent) break;
    absl::SleepFor(absl::Milliseconds(500));
  }
  EXPECT_EQ(counted, sent) << "accesses the control plane counted since " << live_from;

  // --- The planner's moves, as their observations judged them.
  auto migrations = pb::MigrationService::NewStub(channel_);
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + token_);
  pb::ListMigrationsRequest request;
  request.set_resource_id(web.resource_id());
  pb::ListMigrationsResponse moves;
  ASSERT_TRUE(migrations->ListMigrations(&context, request, &moves).ok());
  int planned = 0, ahead = 0;
  for (const pb::Migration& m : moves.migrations()) {
    EXPECT_NE(m.state(), "FAILED") << m.id() << ": " << m.error();
    EXPECT_NE(m.state(), "ROLLED_BACK") << m.id() << ": " << m.error();
    if (m.decision_id().empty()) continue;
    ++planned;
    if (!m.progress().has_realized_shift_at()) continue;
    const absl::Duration lead =
        FromProtoTime(m.progress().realized_shift_at()) - FromProtoTime(m.created_at());
    std::cout << m.id() << " to " << m.target_location() << " started "
              << absl::FormatDuration(lead) << " before the demand shift" << std::endl;
    if (lead > absl::ZeroDuration()) ++ahead;
  }
  EXPECT_GE(planned, 1) << "the planner moved the resource";
  EXPECT_GE(ahead, 1) << "no move of the planner's started ahead of its demand shift";
  // The clients saw each move's freeze: no write in it failed (and there were freezes to see).
  EXPECT_GE(load.fields().at("freezes").list_value().values_size(), 1);
  for (const auto& f : load.fields().at("freezes").list_value().values()) {
    EXPECT_EQ(Number(f.struct_value(), "failed_within_1s"), 0);
  }

  // --- The dashboard on the demo's metrics.
  std::ifstream in(kDashboard);
  ASSERT_TRUE(in) << kDashboard;
  const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  google::protobuf::Struct dashboard;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &dashboard).ok());
  const auto& d = dashboard.fields();
  EXPECT_GE(d.at("schemaVersion").number_value(), 36) << "Grafana 9 or later";
  EXPECT_FALSE(d.at("uid").string_value().empty());
  EXPECT_FALSE(d.at("title").string_value().empty());
  bool has_variable = false;
  for (const auto& v :
       d.at("templating").struct_value().fields().at("list").list_value().values()) {
    const auto& f = v.struct_value().fields();
    has_variable |= f.at("name").string_value() == "datasource" &&
                    f.at("type").string_value() == "datasource" &&
                    f.at("query").string_value() == "prometheus";
  }
  EXPECT_TRUE(has_variable) << "a Prometheus data source variable named datasource";

  // The server's metrics, the three agents'.
  const std::set<std::string> exposed =
      testing::ExposedMetrics({base_ + 1, base_ + 5, base_ + 6, base_ + 7});
  testing::PrometheusClient prometheus(base_ + 11);
  std::set<int> ids;
  struct Box {
    int x, y, w, h;
    std::string title;
  };
  std::vector<Box> boxes;
  int queries = 0;
  std::vector<std::string> empty;
  for (const auto& v : d.at("panels").list_value().values()) {
    const auto& p = v.struct_value().fields();
    const std::string title = p.at("title").string_value();
    EXPECT_TRUE(ids.insert(static_cast<int>(p.at("id").number_value())).second)
        << "panel id of " << title << " is unique";
    const auto& g = p.at("gridPos").struct_value().fields();
    Box b{static_cast<int>(g.at("x").number_value()), static_cast<int>(g.at("y").number_value()),
          static_cast<int>(g.at("w").number_value()), static_cast<int>(g.at("h").number_value()),
          title};
    EXPECT_TRUE(b.x >= 0 && b.y >= 0 && b.w > 0 && b.h > 0 && b.x + b.w <= 24) << title;
    for (const Box& o : boxes) {
      const bool overlap = b.x < o.x + o.w && o.x < b.x + b.w && b.y < o.y + o.h && o.y < b.y + b.h;
      EXPECT_FALSE(overlap) << title << " overlaps " << o.title;
    }
    boxes.push_back(b);
    if (p.at("type").string_value() == "row") continue;
    EXPECT_EQ(p.at("datasource").struct_value().fields().at("uid").string_value(), "${datasource}")
        << title;
    const auto& targets = p.at("targets").list_value().values();
    EXPECT_GT(targets.size(), 0) << title;
    for (const auto& t : targets) {
      const std::string expr = t.struct_value().fields().at("expr").string_value();
      ++queries;
      EXPECT_FALSE(absl::StrContains(expr, "vector(")) << title << " hides a missing series";
      const std::set<std::string> metrics = testing::MetricsIn(expr);
      EXPECT_FALSE(metrics.empty()) << title;
      for (const std::string& metric : metrics) {
        EXPECT_EQ(exposed.count(metric), 1u)
            << title << " reads " << metric << ", which neither the server nor an agent exposes";
      }
      absl::StatusOr<google::protobuf::ListValue> result = prometheus.Query(expr);
      EXPECT_TRUE(result.ok()) << title << ": " << expr << ": " << result.status();
      if (result.ok() && result->values_size() == 0) empty.push_back(title + ": " + expr);
    }
  }
  EXPECT_GE(queries, 30);
  EXPECT_TRUE(empty.empty()) << "queries that returned no data:\n" << absl::StrJoin(empty, "\n");
}

}  // namespace
}  // namespace shadowplane
