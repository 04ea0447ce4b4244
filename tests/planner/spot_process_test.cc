// Spot end to end (label e2e): PostgreSQL, the server, three agents with live instance processes
// and a real HAProxy in front of the resource. A resource on spot at iad-1 under a steady writer
// gets an interruption with a short deadline: it falls back to on-demand there with no failed
// request and no acknowledged write lost; once spot is offered again for --spot_return_after, the
// planner moves it back by itself. And `shadowctl prices import` on a document shaped as
// `aws ec2 describe-spot-price-history` prints it.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/proto_time.h"
#include "gtest/gtest.h"
#include "migration/migration_fixture.h"
#include "shadowplane/v1/planner.grpc.pb.h"
#include "shadowplane/v1/telemetry.grpc.pb.h"
#include "support/child_process.h"

namespace shadowplane {
namespace {

namespace pb = shadowplane::v1;

class SpotProcessTest : public testing::MigrationTest {
 protected:
  void SetUp() override {
    extra_flags_ = {
        "--plan_interval=1s",      "--plan_horizon=6h",           "--forecast_interval=1s",
        "--spot_return_after=4s",  "--planner_observe_window=2s", "--migration_step_deadline=10s",
        "--cutover_dirty_bytes=0", "--max_precopy_rounds=6",      "--max_batch_events=30000"};
    extra_catalog_yaml_ =
        "aws_spot_mapping:\n"
        "  zones: {us-east-1a: iad-1, us-east-1b: iad-1, eu-central-1a: fra-1}\n"
        "  instance_types:\n"
        "    m5.large: {vcpu: 2, memory_gib: 8, on_demand_price_per_hour: 0.096}\n"
        "    c5.xlarge: {vcpu: 4, memory_gib: 8, on_demand_price_per_hour: 0.17}\n";
    MigrationTest::SetUp();
  }
  void OnServerStarted() override {
    MigrationTest::OnServerStarted();
    telemetry_ = pb::TelemetryService::NewStub(channel_);
    planner_ = pb::PlannerService::NewStub(channel_);
  }

  // Spot at iad-1 at 30% of its on-demand price (or none), observed now.
  grpc::Status OfferSpot(bool offered) {
    pb::ReportPricesRequest request;
    pb::PriceReport* p = request.add_prices();
    p->set_location("iad-1");
    *p->mutable_observed_at() = ToProtoTime(absl::Now());
    p->set_on_demand_price_per_vcpu_hour(0.040);
    p->set_on_demand_price_per_gib_hour(0.005);
    if (offered) {
      p->set_spot_price_per_vcpu_hour(0.012);
      p->set_spot_price_per_gib_hour(0.0015);
    }
    p->set_spot_availability(offered ? 0.99 : 0);
    grpc::ClientContext context;
    pb::ReportPricesResponse response;
    return locations_->ReportPrices(&context, request, &response);
  }

  // Two weeks of steady demand from the US, up to the current hour.
  void SendSteadyHistory(const std::string& resource_id) {
    const int64_t this_hour = absl::ToUnixSeconds(absl::Now()) / 3600;
    pb::AccessBatch batch;
    batch.set_batch_id("history");
    for (int64_t hour = this_hour - 14 * 24; hour <= this_hour; ++hour) {
      for (int i = 0; i < 20; ++i) {
        pb::AccessEvent* e = batch.add_events();
        e->mutable_time()->set_seconds(
            std::min(hour * 3600 + 60 * i + 30, absl::ToUnixSeconds(absl::Now()) - 1));
        e->set_client_ip("198.51.100.20");
        e->set_resource_id(resource_id);
        e->set_request_type("GET");
        e->set_bytes_out(2000);
        e->set_origin_region("us-east");
      }
    }
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    pb::BatchAck ack;
    grpc::Status status = telemetry_->RecordAccessBatch(&context, batch, &ack);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(ack.code(), 0) << ack.message();
  }

  pb::Location Location(const std::string& name) {
    grpc::ClientContext context;
    pb::GetLocationRequest request;
    request.set_name(name);
    pb::Location l;
    EXPECT_TRUE(locations_->GetLocation(&context, request, &l).ok());
    return l;
  }

  std::unique_ptr<pb::TelemetryService::Stub> telemetry_;
  std::unique_ptr<pb::PlannerService::Stub> planner_;
};

TEST_F(SpotProcessTest, AnInterruptedSpotPrimaryFallsBackWithoutAFailedRequestAndReturnsToSpot) {
  ASSERT_TRUE(OfferSpot(true).ok());
  pb::ReserveRequest request = Request("req-spot");
  request.set_capacity_type(pb::SPOT);
  request.mutable_planner()->set_mode("auto");
  request.mutable_planner()->mutable_min_dwell()->set_seconds(1);
  request.mutable_planner()->mutable_return_cooldown()->set_seconds(0);
  pb::Reservation r;
  ASSERT_TRUE(Reserve(request, &r).ok());
  ASSERT_EQ(r.state(), "active") << r.error();
  ASSERT_EQ(r.primary().location(), "iad-1");
  ASSERT_EQ(r.primary().capacity_type(), pb::SPOT);
  SendSteadyHistory(r.resource_id());
  if (HasFatalFailure()) return;

  std::atomic<bool> stop{false};
  testing::WriterLog log;
  std::thread writer(
      [&] { testing::RunWriter(haproxy_->frontend_port(0), stop, &log, /*keep_alive=*/false); });
  absl::Cleanup join = [&] {
    stop = true;
    if (writer.joinable()) writer.join();
  };
  absl::SleepFor(absl::Seconds(1));

  // The provider's warning: the capacity goes in 60 seconds.
  const absl::Time warned = absl::Now();
  pb::SpotInterruption interruption;
  {
    grpc::ClientContext context;
    pb::ReportSpotInterruptionRequest report;
    report.set_location("iad-1");
    *report.mutable_deadline() = ToProtoTime(warned + absl::Seconds(60));
    report.set_reason("test: capacity reclaimed");
    grpc::Status status = locations_->ReportSpotInterruption(&context, report, &interruption);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_FALSE(interruption.deadline_passed());
  std::string fallback;
  for (const pb::SpotFallback& f : interruption.fallbacks()) {
    if (f.instance_id() == r.primary().id()) fallback = f.migration_id();
  }
  ASSERT_FALSE(fallback.empty()) << interruption.DebugString();
  pb::Migration m;
  Watch(fallback, &m);
  ASSERT_EQ(m.state(), "DONE") << StatesOf(m) << "\n" << server_->Output();
  EXPECT_TRUE(m.urgent());
  EXPECT_EQ(m.target_location(), "iad-1");
  EXPECT_EQ(m.target_capacity_type(), "on_demand");
  ASSERT_TRUE(m.progress().has_switched_at());
  const absl::Duration to_traffic = FromProtoTime(m.progress().switched_at()) - warned;
  EXPECT_LT(to_traffic, absl::Seconds(60)) << "traffic moved within the warning";
  pb::Reservation fell;
  ASSERT_TRUE(GetReservation(r.id(), &fell).ok());
  EXPECT_EQ(fell.primary().location(), "iad-1");
  EXPECT_EQ(fell.primary().capacity_type(), pb::ON_DEMAND);
  const absl::Time fell_at = FromProtoTime(m.progress().switched_at());
  // The fallback is a decision (recorded before the report was answered) naming its migration.
  {
    grpc::ClientContext context;
    pb::ListDecisionsRequest list;
    list.set_resource_id(r.resource_id());
    list.set_outcome("fallback");
    pb::ListDecisionsResponse decisions;
    ASSERT_TRUE(planner_->ListDecisions(&context, list, &decisions).ok());
    ASSERT_EQ(decisions.decisions_size(), 1);
    const pb::Decision& d = decisions.decisions(0);
    EXPECT_EQ(d.to_capacity_type(), "on_demand");
    EXPECT_TRUE(absl::StrContains(d.reason(), "on-demand at the same location")) << d.reason();
    EXPECT_TRUE(absl::StrContains(d.reason(), "migration " + m.id())) << d.reason();
  }
  EXPECT_FALSE(Location("iad-1").has_spot_available_since()) << "spot counts as gone";

  // Spot is offered again: after --spot_return_after the planner moves the resource back.
  const absl::Time offered = absl::Now();
  ASSERT_TRUE(OfferSpot(true).ok());
  const pb::Decision back =
      testing::WaitForDecisionWithMigration(planner_.get(), r.resource_id(), "move");
  ASSERT_FALSE(back.migration_id().empty()) << server_->Output();
  EXPECT_EQ(back.to_location(), "iad-1");
  EXPECT_EQ(back.to_capacity_type(), "spot");
  EXPECT_GE(FromProtoTime(back.decided_at()) - offered, absl::Seconds(4))
      << "not before spot stayed available for --spot_return_after";
  pb::Migration returned;
  Watch(back.migration_id(), &returned);
  ASSERT_EQ(returned.state(), "DONE") << StatesOf(returned) << "\n" << server_->Output();
  EXPECT_FALSE(returned.urgent());
  absl::SleepFor(absl::Milliseconds(500));
  stop = true;
  writer.join();

  pb::Reservation after;
  ASSERT_TRUE(GetReservation(r.id(), &after).ok());
  EXPECT_EQ(after.primary().location(), "iad-1");
  EXPECT_EQ(after.primary().capacity_type(), pb::SPOT);
  // The log is read once the writer is done: writes started before the fallback's switch, and
  // after it (through the way back).
  int before = 0, after_switch = 0;
  for (absl::Time t : log.starts) (t < fell_at ? before : after_switch)++;
  std::cout << absl::StrFormat(
      "spot fallback: traffic on on-demand %.1f s after the warning; back on spot %.1f s after "
      "it was offered again; %d writes (%d before the fallback's switch, %d after), %d "
      "acknowledged, %d failed\n",
      absl::ToDoubleSeconds(to_traffic),
      absl::ToDoubleSeconds(FromProtoTime(back.decided_at()) - offered), log.requests, before,
      after_switch, static_cast<int>(log.acknowledged.size()), log.failures);
  EXPECT_EQ(log.failures, 0) << absl::StrJoin(log.failure_details, "\n");
  EXPECT_GT(before, 0) << "no write before the fallback: the test says nothing";
  EXPECT_GT(after_switch, 0);
  EXPECT_EQ(static_cast<int>(log.acknowledged.size()), log.requests);
  // Counted: the warning, the fallback by its outcome and its time to traffic, the way back.
  const std::string metrics =
      testing::RunToCompletion(
          {"/usr/bin/curl", "-sf", absl::StrCat("http://127.0.0.1:", metrics_port_, "/metrics")})
          .output;
  for (const char* line :
       {"shadowplane_spot_interruptions_total 1\n",
        "shadowplane_spot_fallbacks_total{outcome=\"on_demand_same_location\"} 1\n",
        "shadowplane_spot_fallback_seconds_count 1\n", "shadowplane_spot_returns_total 1\n"}) {
    EXPECT_TRUE(absl::StrContains(metrics, line)) << line;
  }
  // No acknowledged write is lost: every one reads back from the primary now.
  int code = 0;
  for (const auto& [path, body] : log.acknowledged) {
    EXPECT_EQ(Fetch(after.primary().endpoint(), path, &code), body) << path;
  }
}

TEST_F(SpotProcessTest, ShadowctlImportsAwsSpotPriceHistoryAndRefusesABadOneWhole) {
  // A document as `aws ec2 describe-spot-price-history --output json` prints it.
  const absl::Time now = absl::Now();
  auto entry = [&](const char* zone, const char* type, const char* price, absl::Duration ago) {
    return absl::StrCat(
        R"({"AvailabilityZone": ")", zone, R"(", "InstanceType": ")", type,
        R"(", "ProductDescription": "Linux/UNIX", "SpotPrice": ")", price, R"(", "Timestamp": ")",
        absl::FormatTime("%Y-%m-%dT%H:%M:%S+00:00", now - ago, absl::UTCTimeZone()), R"("})");
  };
  const std::string good = absl::StrCat(
      R"({"SpotPriceHistory": [)", entry("us-east-1a", "m5.large", "0.028800", absl::Hours(2)), ",",
      entry("us-east-1b", "c5.xlarge", "0.051000", absl::Hours(2)), ",",
      entry("us-east-1a", "m5.large", "0.030100", absl::Minutes(10)), ",",
      entry("eu-central-1a", "m5.large", "0.035000", absl::Minutes(10)), R"(], "NextToken": ""})");
  const std::string path = root_ + "/spot-prices.json";
  std::ofstream(path) << good;
  const std::string server = absl::StrCat("--server=127.0.0.1:", port_);
  auto imported =
      testing::RunToCompletion({SHADOWCTL_BIN, "prices", "import", path, server, "--insecure"});
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  EXPECT_TRUE(absl::StrContains(imported.output,
                                "imported 4 entries as 3 price observations for 2 locations"))
      << imported.output;
  pb::Location iad = Location("iad-1");
  ASSERT_TRUE(iad.has_current_prices()) << iad.DebugString();
  EXPECT_EQ(iad.current_prices().source(), "aws-spot-price-history");
  EXPECT_NEAR(iad.current_prices().spot_price_per_vcpu_hour(), 0.040 * 0.0301 / 0.096, 1e-9);
  EXPECT_FALSE(iad.current_prices().has_spot_availability()) << "AWS reports none";
  EXPECT_GE(FromProtoDuration(iad.current_prices().age()), absl::Minutes(10));
  EXPECT_LT(FromProtoDuration(iad.current_prices().age()), absl::Minutes(11));
  EXPECT_EQ(iad.price_basis(), "latest");
  auto shown =
      testing::RunToCompletion({SHADOWCTL_BIN, "locations", "get", "iad-1", server, "--insecure"});
  EXPECT_TRUE(absl::StrContains(shown.output, "aws-spot-price-history")) << shown.output;

  // One unknown zone among good entries: named, and nothing of the file imported.
  std::ofstream(path) << absl::StrCat(
      R"({"SpotPriceHistory": [)", entry("us-east-1a", "m5.large", "0.01", absl::Minutes(1)), ",",
      entry("ap-south-1a", "m5.large", "0.01", absl::Minutes(1)), "]}");
  auto refused =
      testing::RunToCompletion({SHADOWCTL_BIN, "prices", "import", path, server, "--insecure"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(refused.output, "INVALID_ARGUMENT")) << refused.output;
  EXPECT_TRUE(absl::StrContains(refused.output, "aws_spot_prices[1]")) << refused.output;
  EXPECT_TRUE(absl::StrContains(refused.output, "ap-south-1a")) << refused.output;
  EXPECT_NEAR(Location("iad-1").current_prices().spot_price_per_vcpu_hour(), 0.040 * 0.0301 / 0.096,
              1e-9)
      << "nothing imported";
  std::ofstream(path) << absl::StrCat(
      R"({"SpotPriceHistory": [)", entry("us-east-1a", "m5.large", "NaN", absl::Minutes(1)), "]}");
  refused =
      testing::RunToCompletion({SHADOWCTL_BIN, "prices", "import", path, server, "--insecure"});
  EXPECT_TRUE(absl::StrContains(refused.output, "aws_spot_prices[0]: SpotPrice \"NaN\""))
      << refused.output;
  // Not the expected JSON at all.
  std::ofstream(path) << "SpotPriceHistory: [1, 2]";
  refused =
      testing::RunToCompletion({SHADOWCTL_BIN, "prices", "import", path, server, "--insecure"});
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_TRUE(absl::StrContains(refused.output, "is not the JSON")) << refused.output;
  std::ofstream(path) << R"({"SpotPriceHistory": {"AvailabilityZone": 3}})";
  refused =
      testing::RunToCompletion({SHADOWCTL_BIN, "prices", "import", path, server, "--insecure"});
  EXPECT_EQ(refused.exit_code, 2) << refused.output;

  // Price reports and interruptions with bad fields are refused, naming them.
  {
    grpc::ClientContext context;
    pb::ReportPricesRequest bad;
    pb::PriceReport* p = bad.add_prices();
    p->set_location("iad-1");
    *p->mutable_observed_at() = ToProtoTime(now);
    p->set_on_demand_price_per_vcpu_hour(-1);
    pb::ReportPricesResponse ignored;
    grpc::Status status = locations_->ReportPrices(&context, bad, &ignored);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_TRUE(
        absl::StrContains(status.error_message(), "prices[0].on_demand_price_per_vcpu_hour"))
        << status.error_message();
  }
  {
    grpc::ClientContext context;
    pb::ReportPricesRequest unknown;
    pb::PriceReport* p = unknown.add_prices();
    p->set_location("nowhere-1");
    *p->mutable_observed_at() = ToProtoTime(now);
    pb::ReportPricesResponse ignored;
    EXPECT_EQ(locations_->ReportPrices(&context, unknown, &ignored).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  for (const auto& [location, id, code] :
       std::vector<std::tuple<std::string, std::string, grpc::StatusCode>>{
           {"nowhere-1", "", grpc::StatusCode::NOT_FOUND},
           {"", "", grpc::StatusCode::INVALID_ARGUMENT},
           {"Bad Name", "", grpc::StatusCode::INVALID_ARGUMENT},
           {"", "00000000-0000-0000-0000-000000000000", grpc::StatusCode::NOT_FOUND}}) {
    grpc::ClientContext context;
    pb::ReportSpotInterruptionRequest report;
    report.set_location(location);
    if (!id.empty()) report.add_instance_ids(id);
    pb::SpotInterruption ignored;
    EXPECT_EQ(locations_->ReportSpotInterruption(&context, report, &ignored).error_code(), code)
        << location << " " << id;
  }
  auto interrupt_cli = testing::RunToCompletion(
      {SHADOWCTL_BIN, "spot", "interrupt", "fra-1", "--deadline=soon", server, "--insecure"});
  EXPECT_EQ(interrupt_cli.exit_code, 2) << interrupt_cli.output;
  interrupt_cli = testing::RunToCompletion(
      {SHADOWCTL_BIN, "spot", "interrupt", "fra-1", "--deadline=2m", server, "--insecure"});
  EXPECT_EQ(interrupt_cli.exit_code, 0) << interrupt_cli.output;
  EXPECT_TRUE(absl::StrContains(interrupt_cli.output, "spot interruption")) << interrupt_cli.output;
}

}  // namespace
}  // namespace shadowplane
