// The planner end to end (label e2e): PostgreSQL, the server, three agents with live instance
// processes and a real HAProxy in front of the resource. Three weeks of accesses sent with
// RecordAccessBatch, in which demand moves between Europe and the US on a daily pattern; the
// refresher forecasts them; Plan explains a move; then, in auto mode, the planner moves the
// resource by itself while a client writes through HAProxy, and the decision, the migration and
// its observation are linked, through the API and shadowctl.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/proto_time.h"
#include "gtest/gtest.h"
#include "migration/migration_fixture.h"
#include "planner/planner_history.h"
#include "shadowplane/v1/planner.grpc.pb.h"
#include "shadowplane/v1/telemetry.grpc.pb.h"
#include "support/child_process.h"

namespace shadowplane {
namespace {

namespace pb = shadowplane::v1;

class PlannerProcessTest : public testing::MigrationTest {
 protected:
  void SetUp() override {
    // Latency priced high enough that a few dozen requests an hour decide (the prices of compute
    // differ by $0.008 an hour between the locations); decisions every second; a planner move
    // judged three seconds after it retires its source.
    extra_flags_ = {"--plan_interval=1s", "--plan_horizon=6h",
                    "--latency_price_per_request_ms=0.001", "--forecast_interval=1s",
                    // Planner moves are watched longer than others (the fixture's 1 s).
                    "--planner_observe_window=3s", "--migration_step_deadline=10s",
                    "--cutover_dirty_bytes=0", "--max_precopy_rounds=6",
                    // The history in one batch: the refresher sees all of it or none.
                    "--max_batch_events=30000"};
    MigrationTest::SetUp();
  }
  void OnServerStarted() override {
    MigrationTest::OnServerStarted();
    telemetry_ = pb::TelemetryService::NewStub(channel_);
    planner_ = pb::PlannerService::NewStub(channel_);
  }

  void SendHistory(const std::string& resource_id) {
    testing::SendDailyHistory(telemetry_.get(), resource_id);
  }

  std::unique_ptr<pb::TelemetryService::Stub> telemetry_;
  std::unique_ptr<pb::PlannerService::Stub> planner_;
};

TEST_F(PlannerProcessTest, DemandMovingToEuropeMovesTheResourceAheadOfItWithNoFailedRequest) {
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-plan"), &r).ok());
  ASSERT_EQ(r.state(), "active") << r.error();
  ASSERT_EQ(r.primary().location(), "iad-1");
  SendHistory(r.resource_id());
  if (HasFatalFailure()) return;

  // The refresher forecasts it; the dry run (recommend mode, the default) explains the move.
  pb::ResourcePlan plan;
  for (int i = 0; i < 120; ++i) {
    grpc::ClientContext context;
    pb::PlanRequest request;
    request.set_resource_id(r.resource_id());
    pb::PlanResponse response;
    ASSERT_TRUE(planner_->Plan(&context, request, &response).ok());
    plan = response.plans(0);
    if (plan.outcome() != "stay" || plan.blocking_gate() != "no_forecast") break;
    absl::SleepFor(absl::Milliseconds(500));
  }
  ASSERT_EQ(plan.outcome(), "recommend") << plan.DebugString();
  EXPECT_EQ(plan.to_location(), "fra-1");
  EXPECT_GE(plan.confidence(), 0.8);
  EXPECT_GT(plan.expected_saving(), 0);

  // A client writes through HAProxy, a new connection per write, from now on.
  std::atomic<bool> stop{false};
  testing::WriterLog log;
  std::thread writer(
      [&] { testing::RunWriter(haproxy_->frontend_port(0), stop, &log, /*keep_alive=*/false); });
  absl::Cleanup join = [&] {
    stop = true;
    if (writer.joinable()) writer.join();
  };
  absl::SleepFor(absl::Milliseconds(500));

  // This hour's demand comes as forecast, from Europe: what the move will be judged on.
  {
    pb::AccessBatch now_batch;
    now_batch.set_batch_id("this-hour");
    for (int i = 0; i < 44; ++i) {
      pb::AccessEvent* e = now_batch.add_events();
      e->mutable_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) - 1 - i);
      e->set_client_ip("192.0.2.10");
      e->set_resource_id(r.resource_id());
      e->set_request_type("GET");
      e->set_bytes_out(2000);
      e->set_origin_region(i < 40 ? "eu-central" : "us-east");
    }
    grpc::ClientContext context;
    pb::BatchAck ack;
    ASSERT_TRUE(telemetry_->RecordAccessBatch(&context, now_batch, &ack).ok());
    ASSERT_EQ(ack.events_accepted(), 44) << ack.message();
  }

  // Auto mode for this reservation: the loop moves it by itself.
  {
    const grpc::Status status = SetPlannerMode(r.id(), "auto");
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  const pb::Decision move =
      testing::WaitForDecisionWithMigration(planner_.get(), r.resource_id(), "move");
  ASSERT_FALSE(move.migration_id().empty()) << server_->Output();
  EXPECT_EQ(move.to_location(), "fra-1");
  pb::Migration m;
  Watch(move.migration_id(), &m);
  ASSERT_EQ(m.state(), "DONE") << StatesOf(m) << "\n" << server_->Output();
  absl::SleepFor(absl::Milliseconds(500));
  stop = true;
  writer.join();

  std::cout << "planner move: confidence " << move.confidence() << ", expected saving $"
            << move.expected_saving() << "; states " << StatesOf(m) << "; writes " << log.requests
            << " (" << log.acknowledged.size() << " acknowledged, " << log.failures
            << " failed), longest " << absl::FormatDuration(log.Max())
            << "; observation: " << m.progress().observation_note() << "\n";
  // No failed request, and the writes went on throughout.
  EXPECT_GT(log.requests, 0);
  EXPECT_EQ(log.failures, 0) << absl::StrJoin(log.failure_details, "\n");
  EXPECT_GT(static_cast<int>(log.acknowledged.size()), 0);
  pb::Reservation after;
  ASSERT_TRUE(GetReservation(r.id(), &after).ok());
  EXPECT_EQ(after.primary().location(), "fra-1");

  // Linked: the migration names the decision and carries what it expected; the decision names
  // the migration; the observation is there.
  EXPECT_EQ(m.decision_id(), move.id());
  EXPECT_TRUE(m.has_predicted_saving());
  EXPECT_NEAR(m.predicted_confidence(), move.confidence(), 1e-9);
  EXPECT_TRUE(absl::StrContains(StatesOf(m), "OBSERVING,DONE")) << StatesOf(m);
  EXPECT_FALSE(m.progress().observation_note().empty());
  // Watched for --planner_observe_window, not the fixture's --observe_window of 1 s.
  for (const pb::MigrationEvent& e : m.events()) {
    if (e.to_state() != "OBSERVING") continue;
    const absl::Duration watched =
        FromProtoTime(m.progress().observe_until()) - FromProtoTime(e.at());
    EXPECT_GE(watched, absl::Milliseconds(2900)) << absl::FormatDuration(watched);
    EXPECT_LE(watched, absl::Seconds(4)) << absl::FormatDuration(watched);
  }
  // Judged in dollars on the demand that came (from Europe, as forecast): it paid off.
  ASSERT_TRUE(m.progress().has_paid_off()) << m.progress().observation_note();
  EXPECT_TRUE(m.progress().paid_off()) << m.progress().observation_note();
  EXPECT_GT(m.progress().realized_saving(), 0);
  // When the demand arrived: Europe's hour is this one (the history before it was American), so
  // the shift to fra-1 is this hour's start, before the move began.
  ASSERT_TRUE(m.progress().has_realized_shift_at()) << m.progress().observation_note();
  const absl::Time created = FromProtoTime(m.created_at());
  EXPECT_EQ(FromProtoTime(m.progress().realized_shift_at()),
            absl::UnixEpoch() + absl::Floor(created - absl::UnixEpoch(), absl::Hours(1)));
  EXPECT_TRUE(absl::StrContains(m.progress().observation_note(), "demand shifted to fra-1"))
      << m.progress().observation_note();
  {
    grpc::ClientContext context;
    pb::GetDecisionRequest request;
    request.set_decision_id(move.id());
    pb::Decision got;
    ASSERT_TRUE(planner_->GetDecision(&context, request, &got).ok());
    EXPECT_EQ(got.migration_id(), m.id());
    EXPECT_EQ(got.explanation().to_location(), "fra-1");
  }
  const std::string server = absl::StrCat("--server=127.0.0.1:", port_);
  auto shown = testing::RunToCompletion(
      {SHADOWCTL_BIN, "decisions", "get", move.id(), server, "--insecure"});
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_TRUE(absl::StrContains(shown.output, "migration " + m.id())) << shown.output;
  EXPECT_TRUE(absl::StrContains(shown.output, "fra-1")) << shown.output;
  auto listed =
      testing::RunToCompletion({SHADOWCTL_BIN, "migrations", "get", m.id(), server, "--insecure"});
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_TRUE(absl::StrContains(listed.output, "DONE")) << listed.output;

  // The calibration counts it: one judged planner move, paid off; bad input is named.
  {
    grpc::ClientContext context;
    pb::GetCalibrationRequest request;
    pb::GetCalibrationResponse calibration;
    ASSERT_TRUE(planner_->GetCalibration(&context, request, &calibration).ok());
    EXPECT_EQ(calibration.moves(), 1);
    EXPECT_EQ(calibration.paid_off(), 1);
    auto refused = [&](int64_t seconds, int32_t nanos) {
      grpc::ClientContext bad_context;
      pb::GetCalibrationRequest bad;
      bad.mutable_since()->set_seconds(seconds);
      bad.mutable_since()->set_nanos(nanos);
      pb::GetCalibrationResponse ignored;
      return planner_->GetCalibration(&bad_context, bad, &ignored);
    };
    const grpc::Status future = refused(absl::ToUnixSeconds(absl::Now()) + 365 * 86400, 0);
    EXPECT_EQ(future.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_TRUE(absl::StrContains(future.error_message(), "since")) << future.error_message();
    const grpc::Status torn = refused(0, 2'000'000'000);
    EXPECT_EQ(torn.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_TRUE(absl::StrContains(torn.error_message(), "since")) << torn.error_message();
    auto table =
        testing::RunToCompletion({SHADOWCTL_BIN, "planner", "calibration", server, "--insecure"});
    EXPECT_EQ(table.exit_code, 0) << table.output;
    EXPECT_TRUE(absl::StrContains(table.output, "1 of 1 judged planner moves paid off"))
        << table.output;
  }

  // The metrics: the move judged once, as paid off; the planner read the window sums the
  // refresher stored with the paths.
  std::string metrics;
  for (int i = 0; i < 20; ++i) {  // counted just after the commit that the API showed
    metrics =
        testing::RunToCompletion(
            {"/usr/bin/curl", "-sf", absl::StrCat("http://127.0.0.1:", metrics_port_, "/metrics")})
            .output;
    if (absl::StrContains(metrics, "paid_off=")) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(absl::StrContains(metrics, "paid_off=\"true\"} 1\n")) << metrics;
  EXPECT_FALSE(absl::StrContains(metrics, "paid_off=\"false\"}")) << metrics;
  EXPECT_TRUE(
      absl::StrContains(metrics, "shadowplane_planner_demand_reads_total{read=\"window_sums\"}"))
      << metrics;
}

}  // namespace
}  // namespace shadowplane
