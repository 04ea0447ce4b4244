// Agents as callers of an authenticating control plane (label e2e): three real agents, each with
// its own token (role agent, its location), renew their instances' write leases and ship their
// telemetry with it; an agent holding another location's token is refused.
#include <httplib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "api/access/token_store.h"
#include "gtest/gtest.h"
#include "shadowplane/v1/telemetry.grpc.pb.h"
#include "support/control_plane_test.h"

namespace shadowplane {
namespace {

namespace pb = shadowplane::v1;

std::string AgentToken(const std::string& location) { return "agent-token-of-" + location; }

class AgentAccessTest : public testing::ControlPlaneTest {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("sp-agent-tokens");
    std::string tokens =
        absl::StrCat("tokens:\n  - {name: ops, role: operator, team: web, sha256: ",
                     api::access::TokenHash("operator-token"), "}\n",
                     "  - {name: other-ops, role: operator, team: batch, sha256: ",
                     api::access::TokenHash("other-operator-token"), "}\n");
    for (const testing::Site& s : testing::kSites) {
      absl::StrAppend(&tokens, "  - {name: \"agent:", s.location,
                      "\", role: agent, location: ", s.location,
                      ", sha256: ", api::access::TokenHash(AgentToken(s.location)), "}\n");
      const std::string file = dir_ + "/" + s.location + ".token";
      std::ofstream(file) << AgentToken(s.location) << "\n";
      chmod(file.c_str(), 0600);
    }
    std::ofstream(dir_ + "/tokens.yaml") << tokens;
    chmod((dir_ + "/tokens.yaml").c_str(), 0600);
    extra_flags_ = {"--tokens_file=" + dir_ + "/tokens.yaml"};
    caller_token_ = "operator-token";
    ControlPlaneTest::SetUp();
  }
  void TearDown() override {
    ControlPlaneTest::TearDown();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::vector<std::string> AgentFlags(const std::string& location) override {
    const std::string holder = location == borrower_ ? "fra-1" : location;
    return {absl::StrCat("--control_plane_token_file=", dir_, "/", holder, ".token")};
  }

  // The server's metric sample `series` (name and labels as exposed), -1 when absent.
  double Metric(const std::string& series) {
    httplib::Client client("127.0.0.1", metrics_port_);
    auto res = client.Get("/metrics");
    if (!res || res->status != 200) return -1;
    const size_t at = res->body.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    const size_t from = at + series.size() + 2;
    double v = -1;
    (void)absl::SimpleAtod(res->body.substr(from, res->body.find('\n', from) - from), &v);
    return v;
  }

  double WaitForMetricAtLeast(const std::string& series, double least) {
    double v = Metric(series);
    for (const absl::Time deadline = absl::Now() + absl::Seconds(30);
         v < least && absl::Now() < deadline; v = Metric(series)) {
      absl::SleepFor(absl::Milliseconds(200));
    }
    return v;
  }

  std::string dir_;
  std::string borrower_;  // set before SetUp: this location's agent holds fra-1's token
};

TEST_F(AgentAccessTest, AgentsRenewLeasesAndShipTelemetryWithTheirOwnTokens) {
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("agents"), &r).ok()) << server_->Output();
  ASSERT_EQ(r.state(), "active") << r.error();
  EXPECT_GE(WaitForMetricAtLeast("shadowplane_write_lease_renewals_total{verdict=\"granted\"}", 1),
            1)
      << server_->Output();
  // Requests at the primary reach the control plane's demand: shipped with the agent's token.
  int status = 0;
  for (int i = 0; i < 5; ++i) Fetch(r.primary().endpoint(), "/index.html", &status);
  auto telemetry = pb::TelemetryService::NewStub(channel_);
  int64_t requests = 0;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(30);
       requests < 5 && absl::Now() < deadline;) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer operator-token");
    pb::GetDemandRequest request;
    request.set_resource_id(r.resource_id());
    pb::GetDemandResponse demand;
    ASSERT_TRUE(telemetry->GetDemand(&context, request, &demand).ok());
    requests = 0;
    for (const pb::DemandPoint& p : demand.total().points()) requests += p.requests();
    if (requests < 5) absl::SleepFor(absl::Milliseconds(300));
  }
  EXPECT_GE(requests, 5);
  EXPECT_EQ(Metric("shadowplane_access_denied_total{code=\"permission_denied\"}"), 0);
  EXPECT_EQ(Metric("shadowplane_access_denied_total{code=\"unauthenticated\"}"), 0);
  EXPECT_FALSE(absl::StrContains(server_->Output(), "agent-token-of-"));
}

// An agent reports on its own location's instances only: its events and samples naming another
// location's instance are refused (foreign_instance) and nothing of them is stored. An operator
// reports on any instance of its team's resources, and on nothing of another team's
// (foreign_resource).
TEST_F(AgentAccessTest, AnAgentReportsOnlyOnItsOwnInstances) {
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("confined"), &r).ok()) << server_->Output();
  ASSERT_EQ(r.state(), "active") << r.error();
  ASSERT_NE(r.primary().location(), r.shadow().location());
  const std::string own = r.shadow().location();  // the sending agent's
  auto send = [&](const std::string& token, const std::string& batch_id,
                  const std::vector<std::string>& instances, pb::BatchAck* ack) {
    pb::AccessBatch batch;
    batch.set_batch_id(batch_id);
    for (const std::string& instance : instances) {
      pb::AccessEvent* e = batch.add_events();
      e->mutable_time()->set_seconds(absl::ToUnixSeconds(absl::Now()));
      e->set_client_ip("192.0.2.7");
      e->set_resource_id(r.resource_id());
      e->set_instance_id(instance);
      e->set_request_type("GET");
      pb::UtilizationSample* s = batch.add_samples();
      s->mutable_time()->set_seconds(absl::ToUnixSeconds(absl::Now()));
      s->set_instance_id(instance);
      s->mutable_interval()->set_seconds(10);
      s->set_cpu_seconds(1);
    }
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token);
    return pb::TelemetryService::NewStub(channel_)->RecordAccessBatch(&context, batch, ack);
  };
  auto rejected = [](const pb::BatchAck& ack, const std::string& reason) {
    int64_t n = 0;
    for (const pb::Rejection& j : ack.rejections()) {
      if (j.reason() == reason) n += j.count();
    }
    return n;
  };
  pb::BatchAck ack;
  grpc::Status s = send(AgentToken(own), "confined-1", {r.shadow().id(), r.primary().id()}, &ack);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ack.events_accepted(), 1);
  EXPECT_EQ(ack.samples_accepted(), 1);
  EXPECT_EQ(rejected(ack, "foreign_instance"), 2);  // the primary's event and sample
  // An event naming no instance says nothing of where it was served: an agent cannot send one.
  s = send(AgentToken(own), "confined-2", {""}, &ack);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ack.events_accepted(), 0);
  EXPECT_EQ(rejected(ack, "foreign_instance"), 1);
  // The reservation's team's operator reports on any of its instances.
  ASSERT_EQ(r.owner_team(), "web");
  s = send("operator-token", "confined-3", {r.primary().id()}, &ack);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ack.events_accepted(), 1);
  EXPECT_EQ(ack.samples_accepted(), 1);
  EXPECT_EQ(rejected(ack, "foreign_instance"), 0);
  EXPECT_GE(Metric("shadowplane_ingest_rejected_total{reason=\"foreign_instance\"}"), 3);
  // Another team's operator: neither its events nor its samples are taken.
  s = send("other-operator-token", "confined-4", {r.primary().id(), ""}, &ack);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ack.events_accepted(), 0);
  EXPECT_EQ(ack.samples_accepted(), 0);
  EXPECT_EQ(rejected(ack, "foreign_resource"), 3);  // two events and the primary's sample
  EXPECT_EQ(Metric("shadowplane_ingest_rejected_total{reason=\"foreign_resource\"}"), 3);
}

class BorrowedTokenTest : public AgentAccessTest {
 protected:
  void SetUp() override {
    borrower_ = "iad-1";  // where the primary goes (the cheapest location)
    AgentAccessTest::SetUp();
  }
};

TEST_F(BorrowedTokenTest, AnAgentWithAnotherLocationsTokenIsRefused) {
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("borrowed"), &r).ok()) << server_->Output();
  ASSERT_EQ(r.primary().location(), "iad-1");
  EXPECT_GE(WaitForMetricAtLeast("shadowplane_access_denied_total{code=\"permission_denied\"}", 1),
            1);
  EXPECT_TRUE(
      server_->WaitForOutput("speaks for location fra-1, not for 'iad-1'", absl::Seconds(10)))
      << server_->Output();
  EXPECT_EQ(Metric("shadowplane_write_lease_renewals_total{verdict=\"granted\"}"), -1)
      << "no lease renewed for the borrower";
}

}  // namespace
}  // namespace shadowplane
