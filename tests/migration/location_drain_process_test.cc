// Maintenance with real agents, instances, PostgreSQL and HAProxy (label e2e): DrainLocation
// cordons a location and moves its primary out by a planned migration, with no failed write
// through HAProxy, and its shadow (the old primary) is rebuilt at another diverse location;
// progress is visible until nothing is left, and UncordonLocation ends it. Bad input gets the
// right status and changes nothing.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "migration/migration_fixture.h"
#include "shadowplane/v1/locations.grpc.pb.h"
#include "shadowplane/v1/migrations.grpc.pb.h"
#include "support/child_process.h"

namespace shadowplane {
namespace {

namespace pb = shadowplane::v1;

class LocationDrainProcessTest : public testing::MigrationTest {
 protected:
  grpc::Status Drain(const std::string& name, const std::string& reason, pb::LocationDrain* out) {
    grpc::ClientContext context;
    pb::DrainLocationRequest request;
    request.set_name(name);
    request.set_reason(reason);
    return locations_->DrainLocation(&context, request, out);
  }
  grpc::Status Progress(const std::string& name, pb::LocationDrain* out) {
    grpc::ClientContext context;
    pb::GetLocationRequest request;
    request.set_name(name);
    return locations_->GetLocationDrain(&context, request, out);
  }
};

TEST_F(LocationDrainProcessTest, MovesThePrimaryAndTheShadowOutWithNoFailedWrite) {
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-drain"), &r).ok());
  ASSERT_EQ(r.state(), "active") << r.error();
  const std::string drained = r.primary().location();

  // Bad input: nothing changes.
  pb::LocationDrain ignored;
  EXPECT_EQ(Drain("no-such-location", "", &ignored).error_code(), grpc::StatusCode::NOT_FOUND);
  grpc::Status bad = Drain("Bad Name!", "", &ignored);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.error_message().find("name"), std::string::npos) << bad.error_message();
  bad = Drain(drained, std::string(1001, 'x'), &ignored);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.error_message().find("reason"), std::string::npos) << bad.error_message();
  bad = Progress("", &ignored);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad.error_message();
  EXPECT_NE(bad.error_message().find("name"), std::string::npos) << bad.error_message();
  {
    grpc::ClientContext context;
    pb::UncordonRequest nameless;
    pb::Location l;
    bad = locations_->UncordonLocation(&context, nameless, &l);
    EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad.error_message();
  }
  bad = Progress(drained, &ignored);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << bad.error_message();
  EXPECT_NE(bad.error_message().find("not draining"), std::string::npos);

  std::atomic<bool> stop{false};
  testing::WriterLog log;
  std::thread writer([&] { testing::RunWriter(haproxy_->frontend_port(0), stop, &log); });
  absl::SleepFor(absl::Seconds(2));

  pb::LocationDrain started;
  grpc::Status s = Drain(drained, "kernel upgrade", &started);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(started.location().cordoned());
  EXPECT_EQ(started.location().cordon_reason(), "kernel upgrade");
  EXPECT_TRUE(started.location().has_drain_started_at());
  EXPECT_EQ(started.primaries_left(), 1);
  EXPECT_FALSE(started.done());
  // Idempotent: asking again keeps the drain's start.
  pb::LocationDrain again;
  ASSERT_TRUE(Drain(drained, "kernel upgrade", &again).ok());
  EXPECT_EQ(again.location().drain_started_at().seconds(),
            started.location().drain_started_at().seconds());

  const absl::Time start = absl::Now();
  pb::LocationDrain progress;
  bool done = false;
  int progress_seen = 0;
  while (!done && absl::Now() - start < absl::Seconds(90)) {
    // Often enough to see the move under way, which can take well under a second.
    absl::SleepFor(absl::Milliseconds(50));
    grpc::Status read = Progress(drained, &progress);
    EXPECT_TRUE(read.ok()) << read.error_message();
    if (!read.ok()) break;
    progress_seen += progress.moves_in_flight() > 0 || progress.primaries_left() > 0 ? 1 : 0;
    done = progress.done();
  }
  if (!done) {
    stop = true;
    writer.join();
  }
  ASSERT_TRUE(done) << progress.DebugString() << server_->Output();
  std::cout << "drained " << drained << " in " << (absl::Now() - start) << "\n";
  EXPECT_GT(progress_seen, 0) << "the move was visible while under way";
  EXPECT_TRUE(progress.blocked().empty());
  absl::SleepFor(absl::Seconds(1));
  stop = true;
  writer.join();
  EXPECT_EQ(log.failures, 0) << (log.failure_details.empty() ? "" : log.failure_details[0]);
  EXPECT_GE(log.acknowledged.size(), 20u) << "a floor of acknowledged writes";

  pb::Reservation now;
  ASSERT_TRUE(GetReservation(r.id(), &now).ok());
  EXPECT_NE(now.primary().location(), drained);
  EXPECT_EQ(now.primary().location(), r.shadow().location()) << "moved to its shadow's location";
  EXPECT_NE(now.shadow().location(), drained);
  EXPECT_NE(now.shadow().location(), now.primary().location());
  EXPECT_EQ(now.shadow().state(), "running");
  // Every acknowledged write is on the new primary.
  int missing = 0;
  for (const auto& [path, body] : log.acknowledged) {
    int code = 0;
    if (Fetch(now.primary().endpoint(), path, &code) != body) ++missing;
  }
  EXPECT_EQ(missing, 0);
  // The move was the drain's planned migration.
  grpc::ClientContext context;
  pb::ListMigrationsRequest list;
  list.set_resource_id(r.resource_id());
  pb::ListMigrationsResponse migrations;
  ASSERT_TRUE(migrations_->ListMigrations(&context, list, &migrations).ok());
  ASSERT_EQ(migrations.migrations_size(), 1);
  EXPECT_EQ(migrations.migrations(0).request_id(),
            absl::StrCat("drain-", drained, "-", r.primary().id()));
  EXPECT_EQ(migrations.migrations(0).kind(), "planned");

  // UncordonLocation ends it.
  grpc::ClientContext uncordon_context;
  pb::UncordonRequest uncordon;
  uncordon.set_name(drained);
  pb::Location l;
  ASSERT_TRUE(locations_->UncordonLocation(&uncordon_context, uncordon, &l).ok());
  EXPECT_FALSE(l.cordoned());
  EXPECT_FALSE(l.has_drain_started_at());
  EXPECT_EQ(Progress(drained, &ignored).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

// Drains share the planner's fleet budget of planned moves per hour: with none left, the drain
// asks for no move and says why; the location stays cordoned and its primary where it is.
class LocationDrainBudgetTest : public LocationDrainProcessTest {
 protected:
  void SetUp() override {
    extra_flags_ = {"--max_planned_moves_per_hour=0"};
    LocationDrainProcessTest::SetUp();
  }
};

TEST_F(LocationDrainBudgetTest, NoMoveIsAskedForBeyondTheFleetBudget) {
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-drain-budget"), &r).ok());
  ASSERT_EQ(r.state(), "active") << r.error();
  pb::LocationDrain drain;
  ASSERT_TRUE(Drain(r.primary().location(), "", &drain).ok());
  EXPECT_EQ(drain.location().cordon_reason(), "draining");
  bool blocked = false;
  for (int i = 0; i < 50 && !blocked; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    ASSERT_TRUE(Progress(r.primary().location(), &drain).ok());
    blocked = drain.blocked_size() > 0;
  }
  ASSERT_TRUE(blocked) << drain.DebugString();
  EXPECT_NE(drain.blocked(0).find("--max_planned_moves_per_hour"), std::string::npos)
      << drain.blocked(0);
  EXPECT_EQ(drain.primaries_left(), 1);
  EXPECT_EQ(drain.moves_in_flight(), 0);
  grpc::ClientContext context;
  pb::ListMigrationsRequest list;
  list.set_resource_id(r.resource_id());
  pb::ListMigrationsResponse migrations;
  ASSERT_TRUE(migrations_->ListMigrations(&context, list, &migrations).ok());
  EXPECT_EQ(migrations.migrations_size(), 0);

  // The same through shadowctl, as an operator sees it.
  const std::string server = absl::StrCat("--server=127.0.0.1:", port_);
  auto status = testing::RunToCompletion(
      {SHADOWCTL_BIN, "locations", "drain-status", r.primary().location(), server, "--insecure"});
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_TRUE(absl::StrContains(status.output, "1 primaries and 0 shadows left")) << status.output;
  EXPECT_TRUE(absl::StrContains(status.output, "blocked: the fleet's budget")) << status.output;
  auto bad =
      testing::RunToCompletion({SHADOWCTL_BIN, "locations", "drain", "Bad!", server, "--insecure"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(bad.output, "INVALID_ARGUMENT") ||
              absl::StrContains(bad.output, "must be 1 to 63"))
      << bad.output;
  auto uncordoned = testing::RunToCompletion(
      {SHADOWCTL_BIN, "locations", "uncordon", r.primary().location(), server, "--insecure"});
  EXPECT_EQ(uncordoned.exit_code, 0) << uncordoned.output;
  auto gone = testing::RunToCompletion(
      {SHADOWCTL_BIN, "locations", "drain-status", r.primary().location(), server, "--insecure"});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(gone.output, "not draining")) << gone.output;
}

// A lost location under a drain: its primary is left to fail over (here reported only, with
// --auto_failover=false), never asked to move by a planned migration that would need its source.
class LocationDrainLostTest : public LocationDrainProcessTest {
 protected:
  void SetUp() override {
    extra_flags_ = {"--write_lease=3s", "--primary_loss_timeout=6s",
                    "--failover_check_interval=500ms", "--auto_failover=false"};
    LocationDrainProcessTest::SetUp();
  }
};

TEST_F(LocationDrainLostTest, ALostLocationsPrimariesAreLeftToFailOver) {
  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-drain-lost"), &r).ok());
  ASSERT_EQ(r.state(), "active") << r.error();
  const std::string lost = r.primary().location();
  std::ifstream pid_file(agents_.at(lost)->data_root() + "/instances/" + r.primary().id() +
                         "/instance.pid");
  int pid = 0;
  pid_file >> pid;
  ASSERT_GT(pid, 0);
  agents_.at(lost)->Kill();
  kill(pid, SIGKILL);
  bool declared = false;
  for (int i = 0; i < 150 && !declared; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    grpc::ClientContext context;
    pb::GetLocationRequest request;
    request.set_name(lost);
    pb::Location l;
    declared = locations_->GetLocation(&context, request, &l).ok() && l.health() == "lost";
  }
  ASSERT_TRUE(declared) << server_->Output();
  pb::LocationDrain drain;
  ASSERT_TRUE(Drain(lost, "", &drain).ok());
  bool blocked = false;
  for (int i = 0; i < 50 && !blocked; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    ASSERT_TRUE(Progress(lost, &drain).ok());
    blocked = drain.blocked_size() > 0;
  }
  ASSERT_TRUE(blocked) << drain.DebugString();
  EXPECT_NE(drain.blocked(0).find("the location is lost"), std::string::npos) << drain.blocked(0);
  EXPECT_EQ(drain.primaries_left(), 1);
  grpc::ClientContext context;
  pb::ListMigrationsRequest list;
  list.set_resource_id(r.resource_id());
  pb::ListMigrationsResponse migrations;
  ASSERT_TRUE(migrations_->ListMigrations(&context, list, &migrations).ok());
  EXPECT_EQ(migrations.migrations_size(), 0) << "no planned move of a lost primary";
}

}  // namespace
}  // namespace shadowplane
