// The fault matrix (label e2e): the server driving a migration dies (SIGKILL, from a fault point
// compiled into the shipped binary) at every state commit and in the middle of every side effect,
// is started again, and the migration must end DONE or ROLLED_BACK by itself with exactly one
// read-write primary, HAProxy pointing at it, and every acknowledged client write on it.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/fault_point.h"
#include "gtest/gtest.h"
#include "migration/migration_fixture.h"
#include "providers/compute/local/local_compute_provider.h"

namespace shadowplane {
namespace {

namespace pb = shadowplane::v1;

struct FaultCase {
  const char* point;
  const char* to;                 // target location; empty: an emergency promotion of the shadow
  const char* rollback_via = "";  // "cancel": cancelled (the target's agent down) to roll back
};

std::ostream& operator<<(std::ostream& out, const FaultCase& c) { return out << c.point; }

class MigrationFaultTest : public testing::MigrationTest,
                           public ::testing::WithParamInterface<FaultCase> {
 protected:
  void SetUp() override {
    extra_flags_ = {"--migration_lease_ttl=1s", "--migration_step_deadline=60s",
                    "--cutover_dirty_bytes=65536"};
    // Each new client connection goes where the slot points at that moment (no idle server
    // connection to the old address is reused), so writes reach a new primary the moment
    // traffic switches: a cutover resumed after the switch must not run its final round again.
    haproxy_backend_options_ = "http-reuse never";
    // The server that will die at the point.
    server_env_ = {absl::StrCat(kFaultPointEnv, "=", GetParam().point)};
    MigrationTest::SetUp();
  }

  // The instances the agents run for `resource_id`, read from the agents themselves.
  std::vector<providers::InstanceInfo> LiveInstances(const std::string& resource_id) {
    providers::ComputeProviderContext context;
    context.location_endpoint = [this](const std::string& location) -> absl::StatusOr<std::string> {
      return agents_.at(location)->endpoint();
    };
    providers::LocalComputeProvider agents(context);
    std::vector<providers::InstanceInfo> out;
    for (const auto& [location, agent] : agents_) {
      auto listed = agents.ListInstances(location);
      if (!listed.ok()) continue;
      for (const auto& i : *listed) {
        if (i.resource_id == resource_id && i.state == providers::InstanceRunState::kRunning) {
          out.push_back(i);
        }
      }
    }
    return out;
  }

  // Waits for the migration to finish; its final record.
  pb::Migration WaitForEnd(const std::string& id) {
    pb::Migration m;
    const absl::Time deadline = absl::Now() + absl::Seconds(120);
    while (absl::Now() < deadline) {
      if (GetMigration(id, &m).ok() &&
          (m.state() == "DONE" || m.state() == "ROLLED_BACK" || m.state() == "FAILED")) {
        return m;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    return m;
  }
};

TEST_P(MigrationFaultTest, TheMigrationFinishesByItselfAfterTheServerDiesThere) {
  const FaultCase& c = GetParam();
  const bool emergency = std::string(c.to).empty();
  const bool cancel = std::string(c.rollback_via) == "cancel";
  testing::WriteData(seed_, 4);

  pb::Reservation r;
  ASSERT_TRUE(Reserve(Request("req-fault"), &r).ok());
  ASSERT_EQ(r.state(), "active") << r.error();
  std::atomic<bool> stop{false};
  testing::WriterLog log;
  std::thread writer;
  absl::Cleanup join = [&] {
    stop = true;
    if (writer.joinable()) writer.join();
  };
  if (emergency) {
    // The primary's agent and instance are lost.
    testing::AgentUnderTest& source = *agents_.at(r.primary().location());
    std::ifstream pid_file(source.data_root() + "/instances/" + r.primary().id() + "/instance.pid");
    int pid = 0;
    pid_file >> pid;
    source.Kill();
    if (pid > 0) kill(pid, SIGKILL);
  } else {
    // A new connection per write: HAProxy sends each to where the slot points at that moment. A
    // write held by a frozen source is given up after 300 ms, so the client goes on writing.
    writer = std::thread([&] {
      testing::RunWriter(haproxy_->frontend_port(0), stop, &log, /*keep_alive=*/false,
                         absl::Milliseconds(300));
    });
    absl::SleepFor(absl::Milliseconds(300));
  }
  if (cancel) agents_.at(c.to)->Kill();  // the target cannot be prepared: it waits to be cancelled

  pb::Migration m;
  grpc::Status status = Migrate("fault-1", r.id(), c.to, &m, emergency ? "emergency" : "");
  ASSERT_TRUE(status.ok()) << status.error_message();
  if (cancel) {
    absl::SleepFor(absl::Milliseconds(500));
    grpc::ClientContext context;
    pb::CancelMigrationRequest request;
    request.set_id(m.id());
    pb::Migration cancelled;
    ASSERT_TRUE(migrations_->CancelMigration(&context, request, &cancelled).ok());
  }

  // It dies at the point...
  const std::optional<int> died = server_->WaitForExit(absl::Seconds(60));
  ASSERT_TRUE(died.has_value()) << c.point << " was never reached\n" << server_->Output();
  EXPECT_TRUE(absl::StrContains(server_->Output(), "fault point reached")) << server_->Output();
  // ...and the migration finishes once a server runs again (after the dead one's lease expired).
  server_.reset();
  StartServer({});
  ASSERT_FALSE(HasFatalFailure());
  const pb::Migration end = WaitForEnd(m.id());
  stop = true;
  if (writer.joinable()) writer.join();
  ASSERT_TRUE(end.state() == "DONE" || end.state() == "ROLLED_BACK")
      << end.state() << " " << end.error() << "\n"
      << server_->Output();
  EXPECT_EQ(end.state(), cancel ? "ROLLED_BACK" : "DONE") << end.error();
  pb::Migration full;
  ASSERT_TRUE(GetMigration(m.id(), &full).ok());
  std::cout << c.point << ": " << StatesOf(full) << "; " << log.requests << " writes, "
            << log.failures << " unanswered, acknowledged by:";
  for (const auto& [by, n] : log.answered_by) std::cout << " " << by << " " << n;
  std::cout << "\n";

  // Exactly one instance serves writes, and it is the recorded primary.
  pb::Reservation now;
  ASSERT_TRUE(GetReservation(r.id(), &now).ok());
  std::vector<std::string> writable;
  for (const auto& i : LiveInstances(r.resource_id())) {
    if (!i.read_only) writable.push_back(i.instance_id);
  }
  EXPECT_EQ(writable, std::vector<std::string>{now.primary().id()})
      << "one read-write primary; the recorded primary is " << now.primary().id();
  EXPECT_EQ(now.primary().id(), cancel      ? r.primary().id()
                                : emergency ? r.shadow().id()
                                            : full.target_instance_id());
  // HAProxy sends clients to it.
  const std::string ip = now.primary().endpoint().substr(0, now.primary().endpoint().rfind(':'));
  EXPECT_TRUE(absl::StrContains(HaproxyTarget(), " " + ip + " ")) << HaproxyTarget();
  // Every acknowledged write is there, and so is the data.
  int code = 0;
  int missing = 0;
  for (const auto& [path, body] : log.acknowledged) {
    if (Fetch(now.primary().endpoint(), path, &code) != body) ++missing;
  }
  EXPECT_EQ(missing, 0) << "of " << log.acknowledged.size() << " acknowledged writes";
  std::ifstream in(seed_ + "/blobs/b-3.bin", std::ios::binary);
  const std::string blob((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(Fetch(now.primary().endpoint(), "/blobs/b-3.bin", &code), blob);
  EXPECT_EQ(Put(now.primary().endpoint(), "/after-recovery.txt"), 201);
}

INSTANTIATE_TEST_SUITE_P(EveryPoint, MigrationFaultTest,
                         ::testing::Values(
                             // A new target at Singapore.
                             FaultCase{"migration.entered.PREPARING_TARGET", "sin-1"},
                             FaultCase{"migration.preparing_target.after_choice", "sin-1"},
                             FaultCase{"migration.preparing_target.after_create", "sin-1"},
                             FaultCase{"migration.entered.PRECOPY", "sin-1"},
                             FaultCase{"migration.precopy.after_round", "sin-1"},
                             FaultCase{"migration.entered.CUTOVER", "sin-1"},
                             FaultCase{"migration.cutover.after_freeze", "sin-1"},
                             FaultCase{"migration.cutover.after_final_round", "sin-1"},
                             FaultCase{"migration.cutover.after_target_writable", "sin-1"},
                             FaultCase{"migration.cutover.after_switch", "sin-1"},
                             FaultCase{"migration.cutover.after_source_forwarding", "sin-1"},
                             FaultCase{"migration.cutover.after_swap", "sin-1"},
                             FaultCase{"migration.entered.RETIRING_SOURCE", "sin-1"},
                             FaultCase{"migration.retiring_source.after_scale", "sin-1"},
                             FaultCase{"migration.entered.OBSERVING", "sin-1"},
                             // The shadow at Frankfurt scaled up to be the target.
                             FaultCase{"migration.preparing_target.after_scale", "fra-1"},
                             // Emergency promotion of the shadow.
                             FaultCase{"migration.entered.PROMOTING", ""},
                             FaultCase{"migration.promoting.after_target_writable", ""},
                             FaultCase{"migration.promoting.after_switch", ""},
                             // Rollback of a cancelled migration.
                             FaultCase{"migration.entered.ROLLING_BACK", "sin-1", "cancel"},
                             FaultCase{"migration.rolling_back.after_source_restored", "sin-1",
                                       "cancel"}),
                         [](const ::testing::TestParamInfo<FaultCase>& info) {
                           std::string name = absl::StrCat(
                               info.param.point, info.param.to[0] == 'f' ? "_shadow" : "");
                           for (char& ch : name) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace shadowplane
